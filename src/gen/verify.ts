/**
 * Verification of a generated function (`ccx gen`): the candidate's code runs once in the sandbox
 * (src/exec/sandbox.ts: bubblewrap where it works, else a plain process; time and memory limits;
 * no network under bubblewrap) with every example of the spec (shared/spec/gen-spec.schema.json),
 * and each result is compared with the expected output as JSON ({@link jsonEqual}).
 *
 * The environment directory of a run holds the candidate (alone, or appended to a module of the
 * caller's context files) and, in `__ccx_verify__/`, a harness (`harness.py` or `harness.mjs`)
 * and its job (`input.json`: function name, parameter names and the examples' inputs, never the
 * expected outputs). The harness loads the candidate, calls it once per example inside its own
 * try/except, converts each result to JSON and writes one line per example, prefixed with a
 * random marker that it reads from stdin before the candidate loads, to the stdout it keeps for
 * itself; the candidate's own stdout goes to stderr. Results are matched by marker and example
 * index, first report wins, so nothing the candidate prints is taken for a result.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { detectSandbox, runSandboxed, SandboxError, type SandboxKind } from '../exec/sandbox.js';
import type { GenExample } from './spec-types.js';

export type { GenExample } from './spec-types.js';

/** What a candidate is checked against. */
export interface VerifyTarget {
  language: 'python' | 'typescript' | 'javascript';
  /** The function's name in `code`. */
  functionName: string;
  /**
   * Parameter names in declaration order: JavaScript and TypeScript call positionally in this
   * order (a name missing from an example's input is passed as `undefined`, so its default
   * applies); Python calls with keywords (`fn(**input)`), so this list is not used there.
   */
  parameters: string[];
  examples: GenExample[];
}

/** How one example went. */
export interface ExampleOutcome {
  passed: boolean;
  /** The result in its JSON form (see {@link verifyCandidate}), when the call returned one. */
  actual?: unknown;
  /** Why it failed: `expected 3, got 4`, `TypeError: ... (line 2)`, `timed out`, ...; absent when passed. */
  error?: string;
}

/** The verdict on one candidate. */
export interface VerifyResult {
  passed: number;
  total: number;
  /** One per example, in order. */
  outcomes: ExampleOutcome[];
  /**
   * Short human-readable lines, e.g. `example 2: expected 3, got 4`, `example 1: TypeError: ...`,
   * `timed out after 5000 ms`, `syntax error: ... (line 3): ...`. Line numbers count from the
   * first line of the candidate's code, also in context mode.
   */
  errors: string[];
  /** Where the candidate ran. */
  sandbox: SandboxKind;
  /** Milliseconds for the whole verification: writing the environment, transpiling, the sandboxed run. */
  wallMs: number;
}

/** Limits and context of a verification run. */
export interface VerifyOptions {
  /** Wall-clock limit for the whole candidate run, all examples together, in ms (default 10 000). */
  timeLimitMs?: number;
  /**
   * Address-space limit (RLIMIT_AS) in MiB. Default 512 for Python and 4096 for Node.js, which
   * reserves address space up front (src/exec/sandbox.ts); Node.js gets a V8 heap limit of this
   * less 1 GiB, so that running out of heap is reported as such. At least 1024 for Node.js.
   */
  memoryLimitMb?: number;
  /**
   * Context the candidate runs in, for a function taken from an existing module: files written
   * into the temporary environment directory (relative path -> contents), and `modulePath`, one
   * of them, whose text the candidate code is appended to (text + "\n\n" + code, written in its
   * place), so that module-level imports, helpers and constants are in scope. Without it the code
   * runs alone.
   *
   * Python: the module is loaded from its file under its own name (dotted when its directories
   * hold `__init__.py`, so relative imports work), never as `__main__`; its directory and its
   * package root are on `sys.path`. A `from __future__` import of the candidate is moved up
   * among the module's. JavaScript: CommonJS or ES module as Node.js would load the file (`.cjs`,
   * `.mjs`, else the nearest package.json among the files; without one, the module's syntax).
   * TypeScript: every `.ts`/`.mts`/`.cts` file is transpiled to its `.js`/`.mjs`/`.cjs` sibling,
   * as an ES module or CommonJS by its extension and package.json as tsc's `nodenext` would (no
   * package.json: CommonJS), so imports must name what Node.js can load.
   * The module should not also define `functionName`: an ES module cannot declare it twice.
   */
  context?: { files: Record<string, string>; modulePath: string };
  /** `'process'` skips bubblewrap even where it works (see src/exec/sandbox.ts). */
  prefer?: SandboxKind;
}

const DEFAULT_TIME_LIMIT_MS = 10_000;
const DEFAULT_MEMORY_MB = { python: 512, node: 4096 } as const;
/** Below this Node.js may not start at all under RLIMIT_AS (src/exec/sandbox.ts). */
const NODE_MIN_MEMORY_MB = 1024;
/** What Node.js needs besides its V8 heap: code, stacks, reservations. */
const NODE_NON_HEAP_MB = 1024;
/** The harness's directory in the environment; context files may not use it. */
const HARNESS_DIR = '__ccx_verify__';
/** The global through which a JavaScript candidate hands its function to the harness. */
const GLOBAL_KEY = '__ccxVerifyCandidate';
/** How much of a value an error line shows. */
const VALUE_CHARS = 200;
/** Relative tolerance of {@link jsonEqual} for numbers. */
const RELATIVE_TOLERANCE = 1e-9;

/**
 * Runs `code` against every example of `target` in one sandboxed run and compares the results
 * with the expected outputs ({@link jsonEqual}).
 *
 * Results are compared in a JSON form the harness gives them: Python tuples, lists, deques and
 * namedtuples become arrays, dicts objects (keys as `json.dumps` writes them), sets and
 * frozensets sorted arrays, bytes a string when UTF-8 else an array of byte values, dataclasses
 * objects, enums their value, `Decimal`/`Fraction` numbers, dates ISO strings, objects with
 * `tolist()` (NumPy) that; JavaScript follows `JSON.stringify` (`toJSON`, own enumerable
 * properties; `undefined` is `null`, and left out as a property) and makes Sets sorted arrays,
 * Maps objects, typed arrays arrays, BigInts numbers. In both, NaN and the infinities become the
 * strings `"NaN"`, `"Infinity"`, `"-Infinity"`. What has no such form (functions, generators,
 * class instances in Python, Errors and Promises in JavaScript, circular values) fails that
 * example. A Python coroutine or a JavaScript thenable that is returned is awaited.
 *
 * A candidate that does not load (syntax error, no such function, a failed import) fails every
 * example with that error; a run that reaches the time or memory limit or ends early fails the
 * examples not yet reported. None of that is thrown.
 *
 * @throws UsageError when a limit, the function name, a context path or `modulePath` is invalid.
 * @throws CommandNotFoundError when python3 is not on PATH (Node.js is the one running ccx).
 * @throws SandboxError when the sandbox or the harness cannot start.
 */
export async function verifyCandidate(
  code: string,
  target: VerifyTarget,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const started = performance.now();
  const python = target.language === 'python';
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const memoryLimitMb = options.memoryLimitMb ?? (python ? DEFAULT_MEMORY_MB.python : DEFAULT_MEMORY_MB.node);
  if (!(timeLimitMs > 0)) throw new UsageError(`the time limit must be positive, not ${timeLimitMs}`);
  if (!(memoryLimitMb > 0)) throw new UsageError(`the memory limit must be positive, not ${memoryLimitMb}`);
  if (!python && memoryLimitMb < NODE_MIN_MEMORY_MB) {
    throw new UsageError(`a memory limit of ${memoryLimitMb} MiB is too low for Node.js`, {
      hint: `give it at least ${NODE_MIN_MEMORY_MB} MiB of address space (it reserves memory up front)`,
    });
  }
  const identifier = python ? /^[\p{L}_][\p{L}\p{N}_]*$/u : /^[\p{L}_$][\p{L}\p{N}_$]*$/u;
  if (!identifier.test(target.functionName)) {
    throw new UsageError(`${JSON.stringify(target.functionName)} is not a ${target.language} function name`);
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'ccx-verify-'));
  try {
    const inputs = target.examples.map((e) => e.input);
    const job = python
      ? preparePython(dir, code, target, options.context)
      : await prepareJavaScript(dir, code, target, options.context);
    const total = target.examples.length;
    if ('loadError' in job) {
      const sandbox = options.prefer === 'process' ? 'process' : (await detectSandbox()).kind;
      return failAll(total, `syntax error: ${job.loadError}`, sandbox, started);
    }
    write(dir, path.join(HARNESS_DIR, 'input.json'), JSON.stringify({ ...job, inputs }));
    write(
      dir,
      path.join(HARNESS_DIR, python ? 'harness.py' : 'harness.mjs'),
      python ? PY_HARNESS : JS_HARNESS,
    );

    const marker = `@@ccx-verify-${randomBytes(12).toString('hex')}@@`;
    const heapMb = Math.max(64, Math.floor(memoryLimitMb - NODE_NON_HEAP_MB));
    const command = python
      ? ['python3', '-B', '-X', 'utf8', `${HARNESS_DIR}/harness.py`]
      : [
          process.execPath,
          '--enable-source-maps',
          `--max-old-space-size=${heapMb}`,
          `${HARNESS_DIR}/harness.mjs`,
        ];
    const run = await runSandboxed({
      envDir: dir,
      command,
      timeLimitMs,
      memoryLimitMb,
      stdin: 'pipe',
      input: `${marker}\n`,
      stdout: 'pipe',
      stderr: 'pipe',
      // Reproducible string hashing and set order, and BLAS libraries that do not reserve
      // memory for a thread per core under the address-space limit.
      env: python
        ? {
            PYTHONHASHSEED: '0',
            PYTHONDONTWRITEBYTECODE: '1',
            OPENBLAS_NUM_THREADS: '1',
            OMP_NUM_THREADS: '1',
          }
        : {},
      ...(options.prefer === undefined ? {} : { prefer: options.prefer }),
    });

    const reports = parseReports(run.stdout ?? '', marker);
    const stderrTail = lastLines(run.stderr ?? '', 2);
    if (!reports.ready && !run.timedOut && run.memoryExceeded !== true) {
      throw new SandboxError(`the ${python ? 'Python' : 'Node.js'} verification harness did not start`, {
        hint: stderrTail === '' ? `it exited with ${exitText(run.exitCode, run.signal)}` : stderrTail,
      });
    }
    if (reports.load !== undefined) {
      const { kind, error } = reports.load;
      const line =
        kind === 'syntax'
          ? `syntax error: ${error}`
          : kind === 'memory'
            ? `exceeded the memory limit (${memoryLimitMb} MiB) while loading`
            : kind === 'missing'
              ? error
              : `failed to load: ${error}`;
      return failAll(total, line, run.sandbox, started);
    }

    const outcomes: ExampleOutcome[] = [];
    const errors: string[] = [];
    const missing: number[] = [];
    target.examples.forEach((example, i) => {
      const report = reports.examples.get(i);
      if (report === undefined) {
        missing.push(i);
        return;
      }
      if (report.ok) {
        if (jsonEqual(report.value, example.output)) {
          outcomes.push({ passed: true, actual: report.value });
        } else {
          const error = `expected ${showValue(example.output)}, got ${showValue(report.value)}`;
          outcomes.push({ passed: false, actual: report.value, error });
          errors.push(`example ${i + 1}: ${error}`);
        }
        return;
      }
      const error =
        report.kind === 'memory'
          ? 'exceeded the memory limit'
          : report.kind === 'convert'
            ? `the result has no JSON form: ${report.error}`
            : report.error;
      outcomes.push({ passed: false, error });
      errors.push(`example ${i + 1}: ${error}${report.kind === 'memory' ? ` (${memoryLimitMb} MiB)` : ''}`);
    });
    if (missing.length > 0) {
      let why: string;
      let line: string;
      if (run.timedOut) {
        why = 'timed out';
        line = `timed out after ${timeLimitMs} ms`;
      } else if (run.memoryExceeded === true) {
        why = 'exceeded the memory limit';
        line = `exceeded the memory limit (${memoryLimitMb} MiB)`;
      } else {
        why = `the process ended (${exitText(run.exitCode, run.signal)}) before reporting`;
        line = `the process ended (${exitText(run.exitCode, run.signal)}) before ${
          missing.length === 1 ? 'example' : 'examples'
        } ${listExamples(missing)} reported${stderrTail === '' ? '' : `: ${stderrTail}`}`;
      }
      for (const i of missing) outcomes.splice(i, 0, { passed: false, error: why });
      errors.push(line);
    }
    return {
      passed: outcomes.filter((o) => o.passed).length,
      total,
      outcomes,
      errors,
      sandbox: run.sandbox,
      wallMs: elapsed(started),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Deep equality of two values "compared as JSON": `actual` is already in the JSON form the
 * harness gives results (see {@link verifyCandidate}). Numbers are equal when they differ by at
 * most 1e-9 of the larger magnitude (so 0.1 + 0.2 equals 0.3, but nothing but 0 equals 0);
 * objects compare by their own enumerable keys in any order; arrays element by element; other
 * values strictly (`1` is not `true`, not `"1"`, and `null` is only `null`).
 */
export function jsonEqual(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    if (actual === expected || (Number.isNaN(actual) && Number.isNaN(expected))) return true;
    return Math.abs(actual - expected) <= RELATIVE_TOLERANCE * Math.max(Math.abs(actual), Math.abs(expected));
  }
  if (typeof actual !== 'object' || typeof expected !== 'object' || actual === null || expected === null) {
    return actual === expected;
  }
  if (Array.isArray(actual) || Array.isArray(expected)) {
    if (!Array.isArray(actual) || !Array.isArray(expected) || actual.length !== expected.length) return false;
    return actual.every((item, i) => jsonEqual(item, expected[i]));
  }
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(e).length) return false;
  return keys.every((k) => Object.hasOwn(e, k) && jsonEqual(a[k], e[k]));
}

/** The harness's job, `__ccx_verify__/input.json` without the inputs. */
interface HarnessJob {
  functionName: string;
  parameters: string[];
  /** The file that holds the candidate, relative to the environment directory (POSIX). */
  candidatePath: string;
  /** Lines before the candidate's code in that file. */
  lineOffset: number;
  /** Python: the name the module is loaded under. */
  moduleName?: string;
  /** Python: directories put first on sys.path, relative to the environment directory. */
  sysPath?: string[];
  /** JavaScript: the global the function is handed over in. */
  globalKey?: string;
}

function preparePython(dir: string, code: string, target: VerifyTarget, context: VerifyOptions['context']) {
  const job: HarnessJob = {
    functionName: target.functionName,
    parameters: target.parameters,
    candidatePath: 'candidate.py',
    lineOffset: 0,
    moduleName: 'ccx_candidate',
    sysPath: [],
  };
  if (context === undefined) {
    write(dir, job.candidatePath, code);
    return job;
  }
  const { files, modulePath } = writeContext(dir, context);
  const { text, lineOffset } = appendPython(files.get(modulePath)!, code);
  write(dir, modulePath, text);
  // A module inside packages (directories with __init__.py) is loaded under its dotted name,
  // with the packages' parent on sys.path, so that its relative imports resolve.
  const parts = [path.posix.basename(modulePath).replace(/\.py[iw]?$/, '')];
  let packageDir = path.posix.dirname(modulePath);
  while (packageDir !== '.' && files.has(path.posix.join(packageDir, '__init__.py'))) {
    parts.unshift(path.posix.basename(packageDir));
    packageDir = path.posix.dirname(packageDir);
  }
  const moduleDir = path.posix.dirname(modulePath);
  return {
    ...job,
    candidatePath: modulePath,
    lineOffset,
    moduleName: parts.join('.'),
    sysPath: moduleDir === packageDir ? [moduleDir] : [moduleDir, packageDir],
  };
}

/**
 * The module's text with the candidate appended; a `from __future__` import of the candidate,
 * which must come first in a module, goes after the module's own (or at the top), and leaves a
 * blank line in its place so that line numbers still count from the candidate's first line.
 */
function appendPython(moduleText: string, code: string): { text: string; lineOffset: number } {
  const future = /^from\s+__future__\s+import\s+[^\n]*$/;
  const hoisted: string[] = [];
  const codeLines = code.split('\n').map((line) => {
    if (!future.test(line)) return line;
    hoisted.push(line.trimEnd());
    return '';
  });
  const moduleLines = moduleText.split('\n');
  if (hoisted.length > 0) {
    let at = 0;
    moduleLines.forEach((line, i) => {
      if (future.test(line)) at = i + 1;
    });
    moduleLines.splice(at, 0, ...hoisted);
  }
  const head = `${moduleLines.join('\n')}\n\n`;
  return { text: head + codeLines.join('\n'), lineOffset: head.split('\n').length - 1 };
}

type JsModuleKind = 'esm' | 'cjs';

async function prepareJavaScript(
  dir: string,
  code: string,
  target: VerifyTarget,
  context: VerifyOptions['context'],
): Promise<HarnessJob | { loadError: string }> {
  const typescript = target.language === 'typescript';
  const handOver = `\n;globalThis.${GLOBAL_KEY} = typeof ${target.functionName} === 'undefined' ? undefined : ${target.functionName};\n`;
  const job: HarnessJob = {
    functionName: target.functionName,
    parameters: target.parameters,
    candidatePath: '',
    lineOffset: 0,
    globalKey: GLOBAL_KEY,
  };
  if (context === undefined) {
    // Alone, a candidate is an ES module unless it is plainly written as CommonJS.
    const kind: JsModuleKind = !typescript && looksCommonJs(code) ? 'cjs' : 'esm';
    let js = code;
    if (typescript) {
      const out = await transpile(code, 'candidate.ts', 'esm', 0);
      if ('loadError' in out) return out;
      js = out.js;
    }
    job.candidatePath = kind === 'cjs' ? 'candidate.cjs' : 'candidate.mjs';
    write(dir, job.candidatePath, withHandOver(js, handOver));
    return job;
  }

  const { files, modulePath } = writeContext(dir, context);
  const moduleText = files.get(modulePath)!;
  const head = `${moduleText}\n\n`;
  const lineOffset = head.split('\n').length - 1;
  const combined = head + code;
  // Files without a package.json above them are CommonJS for Node.js, unless a JavaScript
  // module is written as an ES module: then a package.json at the root says so for all of them.
  // TypeScript files take package.json's word only, as tsc does with `module: nodenext`.
  const looksEsm = /^\s*(import\s*[\w{*'"]|export\s)/m.test(moduleText);
  const defaultKind: JsModuleKind = !typescript && looksEsm && !looksCommonJs(moduleText) ? 'esm' : 'cjs';
  const packageTypes = [...files.keys()].filter((f) => path.posix.basename(f) === 'package.json');
  const nearestType = (file: string): JsModuleKind | undefined => {
    for (let d = path.posix.dirname(file); ; d = path.posix.dirname(d)) {
      const pj = path.posix.join(d, 'package.json');
      if (packageTypes.includes(pj)) return readPackageType(files.get(pj)!);
      if (d === '.') return undefined;
    }
  };
  const kindOf = (file: string): JsModuleKind => {
    if (/\.m[jt]s$/.test(file)) return 'esm';
    if (/\.c[jt]s$/.test(file)) return 'cjs';
    return nearestType(file) ?? defaultKind;
  };
  if (
    nearestType(modulePath) === undefined &&
    defaultKind === 'esm' &&
    !packageTypes.includes('package.json')
  ) {
    write(dir, 'package.json', '{ "type": "module" }\n');
  }

  if (!typescript) {
    job.candidatePath = modulePath;
    job.lineOffset = lineOffset;
    write(dir, modulePath, withHandOver(combined, handOver));
    return job;
  }
  const jsName = (file: string) => file.replace(/\.([cm]?)tsx?$/, (_, m: string) => `.${m}js`);
  for (const [file, text] of files) {
    if (file === modulePath || !/\.[cm]?tsx?$/.test(file) || /\.d\.[cm]?ts$/.test(file)) continue;
    const out = await transpile(text, path.posix.basename(file), kindOf(file), 0);
    // A context file that does not parse is left out; the import of it fails and says so.
    if ('js' in out) write(dir, jsName(file), out.js);
  }
  const out = await transpile(combined, path.posix.basename(modulePath), kindOf(modulePath), lineOffset);
  if ('loadError' in out) return out;
  job.candidatePath = jsName(modulePath);
  job.lineOffset = lineOffset;
  write(dir, job.candidatePath, withHandOver(out.js, handOver));
  return job;
}

function looksCommonJs(text: string): boolean {
  return /\brequire\s*\(|\bmodule\.exports\b|\bexports\.[\p{L}_$]/u.test(text);
}

function readPackageType(text: string): JsModuleKind {
  try {
    return (JSON.parse(text) as { type?: unknown }).type === 'module' ? 'esm' : 'cjs';
  } catch {
    return 'cjs';
  }
}

/** The code with the hand-over line appended, before a trailing source map comment. */
function withHandOver(js: string, handOver: string): string {
  const map = /\n\/\/# sourceMappingURL=[^\n]*\s*$/.exec(js);
  if (map === null) return js + handOver;
  return js.slice(0, map.index) + handOver + js.slice(map.index);
}

/**
 * TypeScript to JavaScript with the compiler's `transpileModule` (syntax only, no type check),
 * with an inline source map so that stack traces name TypeScript lines.
 */
async function transpile(
  source: string,
  fileName: string,
  kind: JsModuleKind,
  lineOffset: number,
): Promise<{ js: string } | { loadError: string }> {
  const { ts } = await import('ts-morph');
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {
      module: kind === 'esm' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
      jsx: ts.JsxEmit.ReactJSX,
    },
  });
  const diagnostic = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (diagnostic === undefined) return { js: out.outputText };
  let where = '';
  if (diagnostic.file !== undefined && diagnostic.start !== undefined) {
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const text = diagnostic.file.text.split('\n')[line]?.trim() ?? '';
    where =
      line + 1 > lineOffset
        ? ` (line ${line + 1 - lineOffset})${text === '' ? '' : `: ${clip(text, 120)}`}`
        : ` (${fileName}, line ${line + 1})`;
  }
  return { loadError: `${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}${where}` };
}

/** Writes the context files; returns them by normalized path, with `modulePath` normalized. */
function writeContext(
  dir: string,
  context: NonNullable<VerifyOptions['context']>,
): { files: Map<string, string>; modulePath: string } {
  const files = new Map<string, string>();
  for (const [file, text] of Object.entries(context.files)) {
    const rel = checkRelative(file);
    files.set(rel, text);
    write(dir, rel, text);
  }
  const modulePath = checkRelative(context.modulePath);
  if (!files.has(modulePath)) {
    throw new UsageError(`the context module ${context.modulePath} is not among the context files`);
  }
  return { files, modulePath };
}

function checkRelative(file: string): string {
  const rel = path.posix.normalize(file.replaceAll('\\', '/'));
  if (
    rel === '.' ||
    rel.endsWith('/') ||
    path.posix.isAbsolute(rel) ||
    rel === '..' ||
    rel.startsWith('../') ||
    rel === HARNESS_DIR ||
    rel.startsWith(`${HARNESS_DIR}/`)
  ) {
    throw new UsageError(
      `context file path ${JSON.stringify(file)} is not a relative path inside the environment`,
    );
  }
  return rel;
}

function write(dir: string, rel: string, text: string): void {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

type LoadReport = { kind: 'syntax' | 'memory' | 'missing' | 'exception'; error: string };
type ExampleReport =
  | { ok: true; value: unknown }
  | { ok: false; kind: 'exception' | 'memory' | 'convert'; error: string };

/** The harness's lines: those that start with the marker; per example the first one counts. */
function parseReports(stdout: string, marker: string) {
  const examples = new Map<number, ExampleReport>();
  let ready = false;
  let load: LoadReport | undefined;
  const prefix = `${marker} `;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line.slice(prefix.length)) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (r.t === 'ready') ready = true;
    else if (r.t === 'load' && load === undefined) {
      load = { kind: r.kind as LoadReport['kind'], error: String(r.error) };
    } else if (r.t === 'ex' && typeof r.i === 'number' && !examples.has(r.i)) {
      examples.set(
        r.i,
        r.ok === true
          ? { ok: true, value: r.value }
          : { ok: false, kind: r.kind as 'exception' | 'memory' | 'convert', error: String(r.error) },
      );
    }
  }
  return { ready, load, examples };
}

function failAll(total: number, line: string, sandbox: SandboxKind, started: number): VerifyResult {
  return {
    passed: 0,
    total,
    outcomes: Array.from({ length: total }, () => ({ passed: false, error: line })),
    errors: [line],
    sandbox,
    wallMs: elapsed(started),
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function showValue(value: unknown): string {
  return clip(JSON.stringify(value) ?? String(value), VALUE_CHARS);
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-n)
    .map((l) => clip(l, 200))
    .join(' | ');
}

function exitText(exitCode: number | null, signal: string | null): string {
  return signal !== null ? `signal ${signal}` : `exit code ${exitCode}`;
}

/** `2`, `2-4`, `2, 5` as one-based example numbers. */
function listExamples(indexes: number[]): string {
  const first = indexes[0]! + 1;
  const last = indexes.at(-1)! + 1;
  if (indexes.length === 1) return String(first);
  if (last - first + 1 === indexes.length) return `${first}-${last}`;
  return indexes.map((i) => i + 1).join(', ');
}

/**
 * The Python harness (3.8 and later). Reads the marker from stdin and the job from input.json,
 * keeps a duplicate of stdout for its reports and points fd 1 and sys.stdout at stderr, loads the
 * candidate from its file under a name that is not `__main__`, then calls the function once per
 * example, each in its own try/except (BaseException, so that SystemExit fails one example only).
 */
const PY_HARNESS = String.raw`import collections, importlib.machinery, importlib.util, json, math, os, sys, types

# Modules the conversion needs only for values of their own types are looked up, not imported:
# a value of such a type means the candidate imported the module already (and Python starts faster).


def loaded(name, attr):
    m = sys.modules.get(name)
    return getattr(m, attr) if m is not None else ()


def isinst(v, name, attr):
    t = loaded(name, attr)
    return t != () and isinstance(v, t)


class Unrepresentable(Exception):
    pass


def json_key(k):
    if isinst(k, 'enum', 'Enum'):
        return json_key(k.value)
    if isinstance(k, str):
        return str(k)
    if k is True:
        return 'true'
    if k is False:
        return 'false'
    if k is None:
        return 'null'
    if isinstance(k, int):
        return str(int(k))
    if isinstance(k, float):
        v = to_json(k)
        return v if isinstance(v, str) else repr(float(k))
    raise Unrepresentable('a dict key of type ' + type(k).__name__)


def order(v):
    if v is None:
        return (0, 0)
    if isinstance(v, bool):
        return (1, v)
    if isinstance(v, (int, float)):
        return (2, v)
    if isinstance(v, str):
        return (3, v)
    return (4, json.dumps(v, sort_keys=True))


def to_json(v, depth=0):
    if depth > 200:
        raise Unrepresentable('a value nested too deeply (or circular)')
    if v is None or isinstance(v, bool):
        return v
    if isinst(v, 'enum', 'Enum'):
        return to_json(v.value, depth + 1)
    if isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float) or isinst(v, 'decimal', 'Decimal') or isinst(v, 'fractions', 'Fraction'):
        f = float(v)
        if math.isnan(f):
            return 'NaN'
        if math.isinf(f):
            return 'Infinity' if f > 0 else '-Infinity'
        return f
    if isinstance(v, (list, tuple, collections.deque)):
        return [to_json(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {json_key(k): to_json(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (set, frozenset)):
        return sorted([to_json(x, depth + 1) for x in v], key=order)
    if isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        try:
            return b.decode('utf-8')
        except UnicodeDecodeError:
            return list(b)
    if hasattr(type(v), '__dataclass_fields__') and 'dataclasses' in sys.modules:
        dataclasses = sys.modules['dataclasses']
        return {f.name: to_json(getattr(v, f.name), depth + 1) for f in dataclasses.fields(v)}
    if isinst(v, 'datetime', 'date') or isinst(v, 'datetime', 'time'):
        return v.isoformat()
    if isinstance(v, complex):
        raise Unrepresentable('a complex number')
    tolist = getattr(v, 'tolist', None)
    if callable(tolist) and not isinstance(v, type):
        return to_json(tolist(), depth + 1)
    if isinstance(v, type):
        raise Unrepresentable('a class (' + v.__name__ + ')')
    if callable(v):
        raise Unrepresentable('a function (' + str(getattr(v, '__name__', type(v).__name__)) + ')')
    generated = isinstance(v, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType))
    name = type(v).__name__
    raise Unrepresentable(('an ' if name[:1].lower() in 'aeiou' else 'a ') + name + (' object' if generated else ' instance'))


def main():
    marker = sys.stdin.readline().strip()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    with open(os.path.join(here, 'input.json'), encoding='utf-8') as f:
        job = json.load(f)
    out = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def report(line):
        out.write(marker + ' ' + line + '\n')
        out.flush()

    def finish():
        try:
            sys.stderr.flush()
        finally:
            os._exit(0)

    candidate = os.path.normpath(os.path.join(root, job['candidatePath']))
    offset = job['lineOffset']

    def where(tb):
        import traceback

        line = None
        for frame in traceback.extract_tb(tb):
            if frame.lineno is not None and os.path.normpath(os.path.abspath(frame.filename)) == candidate and frame.lineno > offset:
                line = frame.lineno - offset
        return '' if line is None else ' (line ' + str(line) + ')'

    def describe(e):
        text = str(e).strip().splitlines()
        s = type(e).__name__ + (': ' + text[0] if text else '')
        if len(s) > 300:
            s = s[:299] + '\u2026'
        return s + where(e.__traceback__)

    def describe_syntax(e):
        s = ('' if type(e) is SyntaxError else type(e).__name__ + ': ') + str(e.msg)
        n = e.lineno
        if n is not None:
            if e.filename and os.path.normpath(os.path.abspath(e.filename)) != candidate:
                s += ' (' + os.path.basename(e.filename) + ', line ' + str(n) + ')'
            elif n > offset:
                s += ' (line ' + str(n - offset) + ')'
            else:
                s += ' (line ' + str(n) + ' of the module)'
        text = (e.text or '').strip()
        return s + (': ' + text[:120] if text else '')

    if sys.path and os.path.abspath(sys.path[0]) == here:
        del sys.path[0]
    for p in reversed(job['sysPath']):
        sys.path.insert(0, os.path.normpath(os.path.join(root, p)))
    report(json.dumps({'t': 'ready'}))

    name = job['moduleName']
    try:
        loader = importlib.machinery.SourceFileLoader(name, candidate)
        spec = importlib.util.spec_from_file_location(name, candidate, loader=loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
    except SyntaxError as e:
        report(json.dumps({'t': 'load', 'kind': 'syntax', 'error': describe_syntax(e)}))
        finish()
    except MemoryError:
        report(json.dumps({'t': 'load', 'kind': 'memory', 'error': 'MemoryError'}))
        finish()
    except BaseException as e:
        report(json.dumps({'t': 'load', 'kind': 'exception', 'error': describe(e)}))
        finish()
    fn = getattr(module, job['functionName'], None)
    if fn is None or not callable(fn):
        what = 'no function named ' if fn is None else 'a ' + type(fn).__name__ + ', not a function, named '
        report(json.dumps({'t': 'load', 'kind': 'missing', 'error': 'the code defines ' + what + repr(job['functionName'])}))
        finish()

    async def awaited(a):
        return await a

    for i, args in enumerate(job['inputs']):
        try:
            if not isinstance(args, dict):
                raise TypeError('the example input is not an object')
            value = fn(**args)
            if hasattr(type(value), '__await__'):
                import asyncio

                value = asyncio.run(awaited(value))
            line = json.dumps({'t': 'ex', 'i': i, 'ok': True, 'value': to_json(value)}, allow_nan=False)
        except Unrepresentable as e:
            line = json.dumps({'t': 'ex', 'i': i, 'ok': False, 'kind': 'convert', 'error': str(e)})
        except MemoryError:
            line = json.dumps({'t': 'ex', 'i': i, 'ok': False, 'kind': 'memory', 'error': 'MemoryError'})
        except BaseException as e:
            try:
                error = describe(e)
            except BaseException:
                error = type(e).__name__
            line = json.dumps({'t': 'ex', 'i': i, 'ok': False, 'kind': 'exception', 'error': error})
        report(line)
    report(json.dumps({'t': 'done'}))
    finish()


main()
`;

/**
 * The Node.js harness, an ES module. Reads the marker from stdin and the job from input.json,
 * keeps stdout's write for its reports and sends the candidate's to stderr, imports the
 * candidate (which hands its function over in a global), then calls the function once per
 * example, awaiting a thenable; errors thrown asynchronously while an example is awaited fail
 * that example.
 */
const JS_HARNESS = String.raw`import { readFileSync, readSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

class Unrepresentable extends Error {}

function readMarker() {
  const chunks = [];
  const buf = Buffer.alloc(256);
  for (;;) {
    let n;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (e.code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (buf.subarray(0, n).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split('\n')[0].trim();
}

const marker = readMarker();
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const job = JSON.parse(readFileSync(path.join(here, 'input.json'), 'utf8'));
const stdout = process.stdout;
const write = stdout.write.bind(stdout);
stdout.write = process.stderr.write.bind(process.stderr);
const report = (obj) => {
  write(marker + ' ' + JSON.stringify(obj) + '\n');
};

const candidate = path.join(root, job.candidatePath);
const stem = candidate.replace(/\.[^./]*$/, '');

function lineIn(text) {
  for (const line of String(text ?? '').split('\n')) {
    const at = line.indexOf(stem + '.');
    if (at < 0) continue;
    const m = /^\.[\w]+:(\d+)/.exec(line.slice(at + stem.length));
    if (m !== null && Number(m[1]) > job.lineOffset) return Number(m[1]) - job.lineOffset;
  }
  return undefined;
}

function firstLine(text) {
  const s = String(text).trim().split('\n')[0] ?? '';
  return s.length > 300 ? s.slice(0, 299) + '\u2026' : s;
}

function describe(e) {
  try {
    if (e instanceof Error || (e !== null && typeof e === 'object' && typeof e.message === 'string')) {
      const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
      const message = firstLine(e.message);
      const line = lineIn(e.stack);
      return name + (message === '' ? '' : ': ' + message) + (line === undefined ? '' : ' (line ' + line + ')');
    }
    let shown;
    try {
      shown = JSON.stringify(e);
    } catch {}
    return 'threw ' + firstLine(shown ?? String(e));
  } catch {
    return 'threw a value that cannot be shown';
  }
}

function isOom(e) {
  return e instanceof RangeError && /allocation failed/i.test(e.message);
}

function rank(v) {
  if (v === null) return 0;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

function sortedStringify(v) {
  if (Array.isArray(v)) return '[' + v.map(sortedStringify).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + sortedStringify(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

function compare(a, b) {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 || ra === 2) return Number(a) - Number(b);
  const x = ra === 3 ? a : sortedStringify(a);
  const y = ra === 3 ? b : sortedStringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const NO_JSON = [Error, Promise, WeakMap, WeakSet, RegExp, DataView];

function toJson(v, stack) {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      return v === 0 ? 0 : v;
    case 'bigint':
      return toJson(Number(v), stack);
    case 'function':
      throw new Unrepresentable('a function (' + (v.name || 'anonymous') + ')');
    case 'symbol':
      throw new Unrepresentable('a symbol');
  }
  if (stack.includes(v)) throw new Unrepresentable('a circular structure');
  if (stack.length > 500) throw new Unrepresentable('a value nested too deeply');
  stack.push(v);
  try {
    if (Array.isArray(v)) return Array.from(v, (x) => toJson(x, stack));
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v, (x) => toJson(x, stack));
    if (v instanceof ArrayBuffer) return Array.from(new Uint8Array(v));
    for (const type of NO_JSON) {
      if (v instanceof type) throw new Unrepresentable('a ' + (v.constructor?.name ?? type.name) + ' object');
    }
    if (typeof v.toJSON === 'function') return toJson(v.toJSON(), stack);
    if (v instanceof Set) return Array.from(v, (x) => toJson(x, stack)).sort(compare);
    if (v instanceof Map) {
      const out = {};
      for (const [k, x] of v) {
        if (typeof k !== 'string' && typeof k !== 'number') throw new Unrepresentable('a Map with a ' + typeof k + ' key');
        out[String(k)] = toJson(x, stack);
      }
      return out;
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean) return toJson(v.valueOf(), stack);
    const out = {};
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (x !== undefined) out[k] = toJson(x, stack);
    }
    return out;
  } finally {
    stack.pop();
  }
}

let settle = null;
let current = -1;
let awaiting = false;
const stray = (e) => {
  if (settle !== null) settle(e);
  else process.stderr.write('ccx-verify: an error outside any example: ' + describe(e) + '\n');
};
process.on('uncaughtException', stray);
process.on('unhandledRejection', stray);
process.on('exit', (code) => {
  if (current < 0) return;
  const error = awaiting ? 'the returned Promise never settled' : 'the process exited (code ' + code + ') during the call';
  report({ t: 'ex', i: current, ok: false, kind: 'exception', error });
});

report({ t: 'ready' });
let fn;
try {
  const ns = await import(pathToFileURL(candidate).href);
  fn = globalThis[job.globalKey];
  if (typeof fn !== 'function') fn = ns[job.functionName];
  if (typeof fn !== 'function' && ns.default != null) {
    fn = typeof ns.default === 'function' ? ns.default : ns.default[job.functionName];
  }
  if (typeof fn !== 'function') {
    report({ t: 'load', kind: 'missing', error: 'the code defines no function named ' + JSON.stringify(job.functionName) });
    process.exit(0);
  }
} catch (e) {
  const stack = String(e?.stack ?? '');
  // A module that does not parse: CommonJS heads its stack with "file:line"; an ES module's
  // stack has no frame in the environment's files (one that does is a SyntaxError thrown at run time).
  const head = /^(.*):(\d+)$/.exec(stack.split('\n')[0] ?? '');
  const inFiles = stack.split('\n').some((l) => /^\s+at /.test(l) && l.includes(root + '/') && !l.includes(here + '/'));
  if (e instanceof SyntaxError && (head !== null || !inFiles)) {
    let error = firstLine(e.message);
    let where = '';
    let text = '';
    if (head !== null) {
      const line = lineIn(stack.split('\n')[0]);
      text = (stack.split('\n')[1] ?? '').trim();
      where = line !== undefined ? 'line ' + line : path.relative(root, head[1]) + ', line ' + head[2];
    } else {
      const check = spawnSync(process.execPath, ['--check', candidate], { encoding: 'utf8', timeout: 5000 });
      const lines = String(check.stderr ?? '').split('\n');
      const line = lineIn(lines[0]);
      if (line !== undefined) {
        where = 'line ' + line;
        text = (lines[1] ?? '').trim();
      }
    }
    if (where !== '') error += ' (' + where + ')' + (text === '' ? '' : ': ' + text.slice(0, 120));
    report({ t: 'load', kind: 'syntax', error });
  } else {
    report({ t: 'load', kind: isOom(e) ? 'memory' : 'exception', error: describe(e) });
  }
  process.exit(0);
}

for (let i = 0; i < job.inputs.length; i++) {
  const input = job.inputs[i] ?? {};
  current = i;
  let line;
  try {
    const args = job.parameters.map((p) => (Object.hasOwn(input, p) ? input[p] : undefined));
    let value = fn(...args);
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function') {
      const thenable = value;
      awaiting = true;
      value = await new Promise((resolve, reject) => {
        settle = reject;
        thenable.then(resolve, reject);
      });
    }
    line = { t: 'ex', i, ok: true, value: toJson(value, []) };
  } catch (e) {
    if (e instanceof Unrepresentable) line = { t: 'ex', i, ok: false, kind: 'convert', error: e.message };
    else line = { t: 'ex', i, ok: false, kind: isOom(e) ? 'memory' : 'exception', error: describe(e) };
  } finally {
    awaiting = false;
    settle = null;
  }
  current = -1;
  report(line);
}
report({ t: 'done' });
process.exit(0);
`;
