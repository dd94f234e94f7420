/**
 * The tree-sitter grammar of each language ccx reads, imported on first use: the grammars are
 * native modules that `ccx --help` must not load (test/cli/chunk-cli.test.ts).
 */
import type Parser from 'tree-sitter';
import type { Language } from './types.js';

const loaded = new Map<Language, Promise<Parser.Language>>();

async function importGrammar(language: Language): Promise<Parser.Language> {
  switch (language) {
    case 'typescript':
    case 'tsx': {
      const { default: grammars } = await import('tree-sitter-typescript');
      return (language === 'tsx' ? grammars.tsx : grammars.typescript) as Parser.Language;
    }
    case 'javascript':
      return (await import('tree-sitter-javascript')).default as Parser.Language;
    case 'python':
      return (await import('tree-sitter-python')).default as Parser.Language;
    case 'go':
      return (await import('tree-sitter-go')).default as Parser.Language;
  }
}

/** The node-tree-sitter grammar object of `language` (once per process). */
export function loadGrammar(language: Language): Promise<Parser.Language> {
  let grammar = loaded.get(language);
  if (grammar === undefined) {
    grammar = importGrammar(language);
    loaded.set(language, grammar);
  }
  return grammar;
}
