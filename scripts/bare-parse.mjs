#!/usr/bin/env node
// The benchmark baseline: read and parse every source file under DIR with tree-sitter, in this
// one process, with the grammars ccx uses, and nothing else. Prints JSON:
//   { files, lines, bytes, ms, language, largest }
// ms covers reading and parsing (not the directory walk or process start-up); language is the
// one with most files; largest is the relative path of its largest file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Parser from 'tree-sitter';
import Go from 'tree-sitter-go';
import JavaScript from 'tree-sitter-javascript';
import Python from 'tree-sitter-python';
import TypeScript from 'tree-sitter-typescript';

const grammars = {
  '.ts': TypeScript.typescript,
  '.mts': TypeScript.typescript,
  '.cts': TypeScript.typescript,
  '.tsx': TypeScript.tsx,
  '.js': JavaScript,
  '.mjs': JavaScript,
  '.cjs': JavaScript,
  '.jsx': JavaScript,
  '.py': Python,
  '.go': Go,
};
const languageOf = (ext) =>
  ext === '.py'
    ? 'python'
    : ext === '.go'
      ? 'go'
      : ext === '.tsx' || ext.endsWith('ts')
        ? 'typescript'
        : 'javascript';

const dir = path.resolve(process.argv[2]);
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== '.git' && e.name !== '.ccx') walk(p);
    } else if (e.isFile() && grammars[path.extname(e.name)] !== undefined) files.push(p);
  }
})(dir);

const parser = new Parser();
let bytes = 0;
let lines = 0;
const counts = {};
const t0 = performance.now();
for (const f of files) {
  const buf = readFileSync(f);
  const ext = path.extname(f);
  parser.setLanguage(grammars[ext]);
  const text = buf.toString('utf8');
  parser.parse(text, undefined, { bufferSize: Math.max(32 * 1024, text.length * 2 + 2) });
  bytes += buf.length;
}
const ms = performance.now() - t0;
let largest = { size: -1, path: '' };
for (const f of files) {
  const buf = readFileSync(f);
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++;
  const lang = languageOf(path.extname(f));
  counts[lang] = (counts[lang] ?? 0) + 1;
}
const language = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
for (const f of files) {
  if (languageOf(path.extname(f)) !== language) continue;
  const size = readFileSync(f).length;
  if (size > largest.size) largest = { size, path: path.relative(dir, f) };
}
process.stdout.write(
  `${JSON.stringify({ files: files.length, lines, bytes, ms, language, largest: largest.path })}\n`,
);
