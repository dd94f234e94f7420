// Real functions for the syntax checker's benchmark and test: the top-level function
// declarations of the files under a directory (exported ones too), parsed with tree-sitter, in
// file-name order, without syntax errors. Files over 200,000 characters and functions of 4,000
// characters or more are left out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const TYPES = new Set(['function_definition', 'function_declaration']);

/**
 * @param {string} dir
 * @param {string} extension e.g. '.py' ('.d.ts' files are skipped)
 * @param {'python' | 'javascript' | 'typescript'} language
 * @param {number} limit at most this many
 * @returns {Promise<string[]>} the functions' texts
 */
export async function realFunctions(dir, extension, language, limit) {
  const { default: Parser } = await import('tree-sitter');
  const parser = new Parser();
  parser.setLanguage(
    language === 'python'
      ? (await import('tree-sitter-python')).default
      : language === 'javascript'
        ? (await import('tree-sitter-javascript')).default
        : (await import('tree-sitter-typescript')).default.typescript,
  );
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      if (out.length >= limit) return;
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith(extension) && !name.endsWith('.d.ts')) {
        const text = readFileSync(full, 'utf8');
        if (text.length > 200_000) continue;
        const tree = parser.parse(text, undefined, { bufferSize: text.length * 2 + 1024 });
        for (const node of tree.rootNode.children) {
          const fn =
            node.type === 'export_statement' ? node.namedChildren.find((c) => TYPES.has(c.type)) : node;
          if (fn && TYPES.has(fn.type) && !fn.hasError && fn.text.length < 4000) out.push(fn.text);
          if (out.length >= limit) return;
        }
      }
    }
  };
  walk(dir);
  return out;
}
