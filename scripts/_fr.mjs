import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const { SyntaxChecker } = await import('/work/main/dist/gen/syntax.js');
const [language, dir, ext] = process.argv.slice(2);
const { default: Parser } = await import('tree-sitter');
const parser = new Parser();
const grammar =
  language === 'python'
    ? (await import('tree-sitter-python')).default
    : language === 'javascript'
      ? (await import('tree-sitter-javascript')).default
      : (await import('tree-sitter-typescript')).default.typescript;
parser.setLanguage(grammar);
const types = new Set(['function_definition', 'function_declaration']);
const fns = [];
const walk = (d) => {
  for (const name of readdirSync(d).sort()) {
    if (fns.length >= 300) return;
    const full = path.join(d, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith(ext) && !name.endsWith('.d.ts')) {
      const text = readFileSync(full, 'utf8');
      if (text.length > 200000) continue;
      const tree = parser.parse(text, undefined, { bufferSize: text.length * 2 + 1024 });
      for (const node of tree.rootNode.children) {
        const fn =
          node.type === 'export_statement' ? node.namedChildren.find((c) => types.has(c.type)) : node;
        if (fn && types.has(fn.type) && !fn.hasError && fn.text.length < 4000) fns.push(fn.text);
        if (fns.length >= 300) return;
      }
    }
  }
};
walk(dir);
const checker = await SyntaxChecker.create(language);
const reasons = new Map();
let shown = 0;
for (const fn of fns) {
  const split = fn.indexOf(language === 'python' ? ':\n' : '{\n');
  if (split < 0) continue;
  const prefix = fn.slice(0, split + 2);
  let state = checker.start(prefix).state;
  const body = fn.slice(split + 2);
  let first = true;
  for (let i = 0; i < body.length; i += 4) {
    const step = checker.extend(state, body.slice(i, i + 4));
    if (!step.viable) {
      const key = step.reason.replace(/\d+/g, 'N');
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
      if (first && shown < 8) {
        shown++;
        first = false;
        const t = step.state.text;
        console.log('---', step.reason, '\n', JSON.stringify(t.slice(Math.max(0, t.length - 160))));
      }
    }
    state = step.state;
  }
}
console.log([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 10));
