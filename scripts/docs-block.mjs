// Writes a measured table into docs/benchmarks.md between `<!-- NAME:start -->` and
// `<!-- NAME:end -->`, appending a section with HEADING the first time.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');

export function writeDocsBlock(name, heading, table) {
  const text = readFileSync(docs, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${table}\n${end}`;
  writeFileSync(
    docs,
    text.includes(start)
      ? text.replace(new RegExp(`${start}[\\s\\S]*${end}`), () => block)
      : `${text.trimEnd()}\n\n## ${heading}\n\n${block}\n`,
  );
}
