#!/usr/bin/env node
// The README's first command: fetch a real package (rxjs 7.8.1, with `npm pack`) and chunk its
// TypeScript sources into a store under .cache/, printing ccx's summary.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCorpus } from './fetch-corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2] ?? 'rxjs';
const dir = fetchCorpus(name);
const store = path.join(root, '.cache', 'stores', name);
process.stdout.write(`$ ccx chunk ${path.relative(root, dir)} --store ${path.relative(root, store)}\n`);
execFileSync(process.execPath, [path.join(root, 'bin', 'ccx.js'), 'chunk', dir, '--store', store], {
  stdio: 'inherit',
});
process.stdout.write(`\nTry: npx ccx show mergeMap --store ${path.relative(root, store)}\n`);
