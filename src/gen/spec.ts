/**
 * The request of `ccx gen`: loading and checking a spec (shared/spec/gen-spec.schema.json), and
 * the function header built from it — the signature and doc comment that every model technique
 * uses as a forced prefix, so a candidate always has the name, parameters and types the spec
 * asks for.
 */
import { readFile } from 'node:fs/promises';
import { CcxError, UsageError } from '../errors.js';
import { GEN_SPEC_SCHEMA } from './schemas.js';
import type { GenSpec } from './spec-types.js';

export type { GenExample, GenParameter, GenSpec } from './spec-types.js';

/** A spec that is not valid JSON or not a valid request (exit 2); `problems` lists each. */
export class SpecError extends CcxError {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super('CCX_SPEC', `${file} is not a valid ccx gen spec:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'the format is shared/spec/gen-spec.schema.json: function_name, language, ast {name, parameters}, examples [{input, output}]',
    });
    this.problems = problems;
  }
}

let validator: ((value: unknown) => string[]) | undefined;

async function schemaProblems(value: unknown): Promise<string[]> {
  if (validator === undefined) {
    // CommonJS modules: their `default` export is the namespace, which holds `default`.
    const Ajv2020 = (await import('ajv/dist/2020.js')).default.default;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const check = ajv.compile(GEN_SPEC_SCHEMA);
    validator = (v) =>
      check(v)
        ? []
        : (check.errors ?? []).map((e) => {
            const where = e.instancePath === '' ? 'the spec' : e.instancePath.slice(1).replaceAll('/', '.');
            const extra =
              e.keyword === 'enum'
                ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
                : '';
            return `${where} ${e.message ?? 'is invalid'}${extra}`;
          });
  }
  return validator(value);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a parsed spec: the schema (ajv, every error at once), then what the schema cannot say —
 * names are identifiers of the language, parameters are unique, and every example names only
 * parameters the function has.
 * @param file shown in the error message
 * @throws SpecError listing every problem
 */
export async function validateSpec(value: unknown, file = 'the spec'): Promise<GenSpec> {
  const problems = await schemaProblems(value);
  if (problems.length > 0) throw new SpecError(file, problems);
  const spec = value as GenSpec;
  const ident = spec.language === 'python' ? PY_IDENTIFIER : IDENTIFIER;
  if (!ident.test(spec.function_name))
    problems.push(`function_name ${JSON.stringify(spec.function_name)} is not a ${spec.language} identifier`);
  const names = spec.ast.parameters.map((p) => p.name);
  const seen = new Set<string>();
  for (const name of names) {
    if (!ident.test(name))
      problems.push(`parameter ${JSON.stringify(name)} is not a ${spec.language} identifier`);
    if (seen.has(name)) problems.push(`parameter ${JSON.stringify(name)} is given twice`);
    seen.add(name);
  }
  (spec.examples ?? []).forEach((example, i) => {
    for (const key of Object.keys(example.input))
      if (!seen.has(key))
        problems.push(`examples.${i}.input names ${JSON.stringify(key)}, which is not a parameter`);
    for (const p of spec.ast.parameters)
      if (!(p.name in example.input) && !('default' in p))
        problems.push(`examples.${i}.input lacks ${JSON.stringify(p.name)}, which has no default`);
  });
  if (problems.length > 0) throw new SpecError(file, problems);
  return spec;
}

/**
 * Reads and checks a spec file.
 * @throws UsageError when the file cannot be read; SpecError when it is not JSON or not valid
 */
export async function loadSpec(file: string): Promise<GenSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read the spec ${file}: ${(cause as NodeJS.ErrnoException).code ?? cause}`, {
      cause,
      hint: 'give the path of a JSON file in the format of shared/spec/gen-spec.schema.json',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SpecError(file, [`not valid JSON: ${(cause as Error).message}`]);
  }
  return validateSpec(value, file);
}

/** The forced start of every candidate, built from the spec. */
export interface FunctionHeader {
  /** Doc comment (JS/TS) and signature, up to and including the line that opens the body. */
  prefix: string;
  /** Indentation of the body's first level (four spaces in Python, two in JS/TS). */
  indent: string;
  /** Parameter names in declaration order. */
  parameters: string[];
}

/** Type names by language family, for specs that use another language's or JSON Schema's names. */
const TO_PYTHON: Record<string, string> = {
  number: 'float',
  integer: 'int',
  string: 'str',
  boolean: 'bool',
  array: 'list',
  object: 'dict',
  null: 'None',
  void: 'None',
  undefined: 'None',
  any: 'Any',
  unknown: 'Any',
};
const TO_TYPESCRIPT: Record<string, string> = {
  int: 'number',
  float: 'number',
  integer: 'number',
  str: 'string',
  bool: 'boolean',
  list: 'unknown[]',
  array: 'unknown[]',
  dict: 'Record<string, unknown>',
  object: 'Record<string, unknown>',
  None: 'null',
  Any: 'unknown',
  any: 'unknown',
};
/** Names Python knows without an import, so an annotation with them can stay unquoted. */
const PY_BUILTIN_TYPES = new Set([
  'int',
  'float',
  'str',
  'bool',
  'list',
  'dict',
  'set',
  'tuple',
  'bytes',
  'None',
  'object',
]);

/**
 * A spec type as a Python annotation: known names mapped (`number` → `float`, `T[]` →
 * `list[T]`); anything that is not plain builtins is quoted, since Python evaluates annotations
 * when the `def` runs and an unknown name there is a NameError.
 */
export function pythonType(type: string): string {
  const t = type.trim();
  const array = /^(.*)\[\]$/.exec(t);
  const mapped = array ? `list[${pythonType(array[1]!).replace(/^"|"$/g, '')}]` : (TO_PYTHON[t] ?? t);
  const names = mapped.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  return names.every((n) => PY_BUILTIN_TYPES.has(n)) ? mapped : JSON.stringify(mapped);
}

/** A spec type as a TypeScript type (`int` → `number`, `list[int]` → `number[]`). */
export function typescriptType(type: string): string {
  const t = type.trim();
  const generic = /^(list|List|set|Set|tuple|Tuple)\[(.*)\]$/.exec(t);
  if (generic) return `${typescriptType(generic[2]!)}[]`;
  return TO_TYPESCRIPT[t] ?? t;
}

/** A JSON value as a Python literal (`true` → `True`, `null` → `None`). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : `float(${JSON.stringify(String(value))})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
    .join(', ')}}`;
}

/** Wraps prose into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    if (line !== '') lines.push(line);
    lines.push('');
  }
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

/** How many examples go into the doc comment (they cost prompt tokens). */
const DOC_EXAMPLES = 3;

/**
 * The signature and doc comment of the function the spec asks for. Python: `def` with
 * annotations and a docstring holding the description, constraints and up to three examples as
 * doctests. JavaScript: a JSDoc comment (`@param`, `@returns`, `@example`) and a `function`
 * declaration. TypeScript: the same with type annotations.
 */
export function buildFunctionHeader(spec: GenSpec): FunctionHeader {
  const params = spec.ast.parameters;
  const name = spec.function_name;
  const examples = (spec.examples ?? []).slice(0, DOC_EXAMPLES);
  const description = spec.description?.trim() ?? '';
  const constraints = spec.constraints ?? [];
  if (spec.language === 'python') {
    const list = params
      .map((p) => {
        const annotation = p.type === undefined ? '' : `: ${pythonType(p.type)}`;
        if (!('default' in p)) return `${p.name}${annotation}`;
        return `${p.name}${annotation}${annotation === '' ? '=' : ' = '}${pythonLiteral(p.default)}`;
      })
      .join(', ');
    const returns = spec.ast.return_type === undefined ? '' : ` -> ${pythonType(spec.ast.return_type)}`;
    const doc: string[] = [];
    if (description !== '') doc.push(...wrap(description, 88));
    if (constraints.length > 0)
      doc.push(...(doc.length ? [''] : []), 'Constraints:', ...constraints.map((c) => `- ${c}`));
    if (examples.length > 0) {
      if (doc.length) doc.push('');
      for (const e of examples) {
        const args = params
          .filter((p) => p.name in e.input)
          .map((p) => `${p.name}=${pythonLiteral(e.input[p.name])}`)
          .join(', ');
        doc.push(`>>> ${name}(${args})`, pythonLiteral(e.output));
      }
    }
    const docstring =
      doc.length === 0
        ? ''
        : doc.length === 1
          ? `    """${doc[0]!.replaceAll('"""', '\\"\\"\\"')}"""\n`
          : `    """${doc
              .map((l, i) => (i === 0 ? l : l === '' ? '' : `    ${l}`))
              .join('\n')
              .replaceAll('"""', '\\"\\"\\"')}\n    """\n`;
    return {
      prefix: `def ${name}(${list})${returns}:\n${docstring}`,
      indent: '    ',
      parameters: params.map((p) => p.name),
    };
  }
  const ts = spec.language === 'typescript';
  const doc: string[] = [];
  if (description !== '') doc.push(...wrap(description, 96));
  for (const c of constraints) doc.push(`Constraint: ${c}`);
  for (const p of params) doc.push(`@param ${!ts && p.type ? `{${p.type}} ` : ''}${p.name}`);
  if (spec.ast.return_type !== undefined && !ts) doc.push(`@returns {${spec.ast.return_type}}`);
  for (const e of examples) {
    const args = params.filter((p) => p.name in e.input).map((p) => JSON.stringify(e.input[p.name]));
    doc.push(`@example ${name}(${args.join(', ')}) // => ${JSON.stringify(e.output)}`);
  }
  const comment =
    doc.length === 0
      ? ''
      : `/**\n${doc.map((l) => (l === '' ? ' *' : ` * ${l.replaceAll('*/', '*\\/')}`)).join('\n')}\n */\n`;
  const list = params
    .map((p) => {
      const annotation = ts && p.type !== undefined ? `: ${typescriptType(p.type)}` : '';
      return 'default' in p
        ? `${p.name}${annotation} = ${JSON.stringify(p.default)}`
        : `${p.name}${annotation}`;
    })
    .join(', ');
  const returns = ts && spec.ast.return_type !== undefined ? `: ${typescriptType(spec.ast.return_type)}` : '';
  return {
    prefix: `${comment}function ${name}(${list})${returns} {\n`,
    indent: '  ',
    parameters: params.map((p) => p.name),
  };
}
