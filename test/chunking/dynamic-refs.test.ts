/** References static analysis cannot follow (src/chunking/lang/dynamic.ts), per language. */
import { describe, expect, it } from 'vitest';
import type { Language } from '../../src/chunking/types.js';
import { analyzeText, findChunk } from '../helpers/analyze.js';

async function dynamicRefs(src: string, language: Language, localId: string): Promise<string[] | undefined> {
  return findChunk(await analyzeText(src, language), localId).dynamicRefs;
}

describe('dynamic references', () => {
  it('JavaScript/TypeScript: computed import() and require(), eval, new Function', async () => {
    const src = [
      'function f(name) { return import(name); }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the fixture
      'function g(name) { return require(`./${name}`); }',
      'function h(code) { eval(code); return new Function("a", code); }',
      "function fine() { return [import('./a'), require('b'), require(`./c`)]; }",
      'const top = import(process.env.X);',
    ].join('\n');
    expect(await dynamicRefs(src, 'typescript', 'f')).toEqual(['import(name)']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the fixture
    expect(await dynamicRefs(src, 'javascript', 'g')).toEqual(['require(`./${name}`)']);
    expect(await dynamicRefs(src, 'typescript', 'h')).toEqual(['eval(code)', 'new Function("a", code)']);
    expect(await dynamicRefs(src, 'typescript', 'fine')).toBeUndefined();
    expect(await dynamicRefs(src, 'typescript', '')).toEqual(['import(process.env.X)']);
  });

  it('Python: getattr with a computed name, importlib, __import__, exec', async () => {
    const src = [
      'import importlib',
      'def f(o, name):',
      '    return getattr(o, name)',
      'def fine(o):',
      '    return getattr(o, "x", None), importlib.import_module("json")',
      'class C:',
      '    def m(self, mod):',
      '        return importlib.import_module(mod), __import__(f"p.{mod}")',
      'exec(open("x").read())',
    ].join('\n');
    expect(await dynamicRefs(src, 'python', 'f')).toEqual(['getattr(o, name)']);
    expect(await dynamicRefs(src, 'python', 'fine')).toBeUndefined();
    expect(await dynamicRefs(src, 'python', 'C.m')).toEqual([
      'importlib.import_module(mod)',
      '__import__(f"p.{mod}")',
    ]);
    expect(await dynamicRefs(src, 'python', '')).toEqual(['exec(open("x").read())']);
  });

  it('Go: a method or field looked up by name through reflect', async () => {
    const src = [
      'package p',
      'import "reflect"',
      'func Call(v any, name string) {',
      '\treflect.ValueOf(v).MethodByName(name).Call(nil)',
      '}',
      'func Fine(v any) reflect.Type { return reflect.TypeOf(v) }',
    ].join('\n');
    expect(await dynamicRefs(src, 'go', 'Call')).toEqual(['reflect.ValueOf(v).MethodByName(name)']);
    expect(await dynamicRefs(src, 'go', 'Fine')).toBeUndefined();
  });
});
