// Reformats every JavaScript/TypeScript file of a tree with prettier, in place: the input of the
// "prettier round trip" check of `ccx diff` (a reformat must never look like a functional change).
//
//   node scripts/reformat.mjs DIR [STYLE]      STYLE: narrow (default) or wide
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

/** Two styles far from each other and from most projects' own. */
export const STYLES = {
  narrow: {
    printWidth: 60,
    semi: false,
    singleQuote: true,
    trailingComma: 'none',
    arrowParens: 'avoid',
    bracketSpacing: false,
  },
  wide: {
    printWidth: 100,
    tabWidth: 4,
    semi: true,
    singleQuote: false,
    trailingComma: 'all',
    quoteProps: 'consistent',
    arrowParens: 'always',
  },
};

const PARSERS = { '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescript' };

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/.test(name)) out.push(p);
  }
  return out.sort();
}

/**
 * Formats every JS/TS file under `dir` with prettier in `style`; files prettier cannot parse are
 * left as they are. Returns how many files were rewritten and which could not be parsed.
 */
export async function reformatTree(dir, style = 'narrow') {
  let rewritten = 0;
  const failed = [];
  for (const file of files(dir)) {
    const text = readFileSync(file, 'utf8');
    const ext = path.extname(file);
    try {
      const out = await prettier.format(text, { ...STYLES[style], parser: PARSERS[ext] ?? 'babel' });
      if (out !== text) {
        writeFileSync(file, out);
        rewritten++;
      }
    } catch {
      failed.push(path.relative(dir, file));
    }
  }
  return { rewritten, failed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, style = 'narrow'] = process.argv.slice(2);
  const result = await reformatTree(dir, style);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
