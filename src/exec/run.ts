/**
 * `ccx run -- COMMAND [ARGS...]`: runs a command in a chunked root and records which chunks it
 * executed as an execution record (shared/spec/execution-record.schema.json) against the root's
 * latest snapshot. Node.js processes report through `NODE_V8_COVERAGE`, Python processes through
 * a tracer on `PYTHONPATH` (python-tracer.ts); both reach child processes through the environment.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { loadNativeFlatten } from '../chunking/native.js';
import { loadAnalyses, loadHeadSnapshot, type SnapshotContent } from '../chunking/snapshot.js';
import { chunkId } from '../graph/repo-index.js';
import { type ExecutionRecord, newRecordId } from '../history/record.js';
import { resolveStorePath } from '../store/location.js';
import { openStore } from '../store/store.js';
import {
  ChunkLocator,
  chunksFromNodeCoverage,
  chunksFromPythonTraces,
  type FileChunkRanges,
} from './coverage.js';
import { PYTHON_TRACER } from './python-tracer.js';

export interface RunOptions {
  /** The program to run, and its arguments. */
  command: string;
  args: string[];
  /** The chunked root the command runs in (default: the working directory). */
  cwd?: string;
  /** `KEY=VALUE` labels kept with the record. */
  labels?: Record<string, string>;
  /** Store directory; default `<cwd>/.ccx`, or `CCX_STORE`. */
  store?: string;
  /** Wait for a store held by another process (true, or milliseconds). */
  wait?: boolean | number;
}

export interface RunResult {
  record: ExecutionRecord;
  /** False when no Node.js or Python process reported (the record has no chunks). */
  chunkData: boolean;
  /** Things a person should know (files changed since the snapshot, a command not found). */
  warnings: string[];
}

interface Usage {
  userMs: number;
  systemMs: number;
  maxRssKb: number;
}

/** CPU and peak RSS of waited-for children (native getrusage), or null without the addon. */
function childrenUsage(): Usage | null {
  return loadNativeFlatten()?.childrenUsage?.() ?? null;
}

/** Peak RSS (KiB) and CPU (ms) of one live process from /proc, for when getrusage is not at hand. */
function procUsage(pid: number): Usage | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 (1-based), 12-15 after the command name.
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return { userMs: ticks * 10, systemMs: 0, maxRssKb: hwm === null ? 0 : Number(hwm[1]) };
  } catch {
    return null;
  }
}

/**
 * The submission: the first argument naming a file under the root; else the last argument
 * naming a Python module under the root (`python -m unittest test.test_json` is
 * `test/test_json/__init__.py`); else the command line.
 */
function submissionOf(root: string, command: string, args: string[]): ExecutionRecord['submission'] {
  const under = (candidate: string): string | undefined => {
    const absolute = path.resolve(root, candidate);
    const rel = path.relative(root, absolute).split(path.sep).join('/');
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    try {
      return statSync(absolute).isFile() ? rel : undefined;
    } catch {
      return undefined;
    }
  };
  const fromFile = (rel: string): ExecutionRecord['submission'] => ({
    entry: rel,
    hash: createHash('sha256')
      .update(readFileSync(path.join(root, rel)))
      .digest('hex'),
    command: [command, ...args],
  });
  const operands = args.filter((a) => !a.startsWith('-'));
  for (const arg of operands) {
    const file = under(arg);
    if (file !== undefined) return fromFile(file);
  }
  for (const arg of [...operands].reverse()) {
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(arg)) continue;
    const base = arg.split('.').join('/');
    const file = under(`${base}.py`) ?? under(`${base}/__init__.py`);
    if (file !== undefined) return fromFile(file);
  }
  const line = [command, ...args].join(' ');
  return { entry: line, hash: createHash('sha256').update(line).digest('hex'), command: [command, ...args] };
}

/**
 * Runs the command with stdin, stdout and stderr passed through, and stores its execution
 * record. The store is not held while the command runs.
 *
 * @throws NotFoundError when the root has no snapshot in the store (run `ccx chunk` first).
 * @throws StoreError / StoreLockedError when the store cannot be read or written.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const root = path.resolve(options.cwd ?? '.');
  const storePath = resolveStorePath(root, options.store);
  const wait = options.wait ?? false;
  const store = await openStore(storePath, { create: false, wait });
  let content: SnapshotContent;
  let snapshotId: string;
  try {
    const snapshot = await loadHeadSnapshot(store, root);
    snapshotId = snapshot.id;
    content = snapshot.content as SnapshotContent;
  } finally {
    await store.close();
  }
  const indexed = content.files.filter((f) => f.status !== 'skipped');
  const locator = new ChunkLocator(root, new Map(indexed.map((f) => [f.path, f.sha256])));

  const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-run-'));
  const warnings: string[] = [];
  try {
    const nodeDir = path.join(scratch, 'node');
    const pythonDir = path.join(scratch, 'python');
    const siteDir = path.join(scratch, 'site');
    for (const d of [nodeDir, pythonDir, siteDir]) mkdirSync(d);
    writeFileSync(path.join(siteDir, 'sitecustomize.py'), PYTHON_TRACER);
    const env = {
      NODE_V8_COVERAGE: nodeDir,
      CCX_PY_TRACE_DIR: pythonDir,
      PYTHONPATH: [siteDir, process.env.PYTHONPATH]
        .filter((p) => p !== undefined && p !== '')
        .join(path.delimiter),
    };

    const { execa } = await import('execa');
    const before = childrenUsage();
    const startedMs = Date.now();
    const t0 = performance.now();
    const child = execa(options.command, options.args, {
      cwd: root,
      env,
      stdio: 'inherit',
      reject: false,
    });
    let polled: Usage | null = null;
    const poll =
      before === null && child.pid !== undefined
        ? setInterval(() => {
            polled = procUsage(child.pid!) ?? polled;
          }, 50)
        : undefined;
    const result = await child;
    if (poll !== undefined) clearInterval(poll);
    const wallMs = performance.now() - t0;
    const after = childrenUsage();
    const usage: Usage =
      before !== null && after !== null
        ? {
            userMs: after.userMs - before.userMs,
            systemMs: after.systemMs - before.systemMs,
            maxRssKb: after.maxRssKb,
          }
        : (polled ?? { userMs: 0, systemMs: 0, maxRssKb: 0 });

    let exitCode: number;
    if (typeof result.exitCode === 'number') exitCode = result.exitCode;
    else if (result.signal !== undefined) {
      exitCode = 128 + (constants.signals[result.signal as keyof typeof constants.signals] ?? 0);
    } else {
      exitCode = 127;
      warnings.push(`cannot run ${options.command}: ${result.shortMessage ?? 'not found'}`);
    }

    const reported = chunksFromNodeCoverage(nodeDir, locator) + chunksFromPythonTraces(pythonDir, locator);
    if (reported === 0 && exitCode !== 127) {
      warnings.push(
        `${options.command} started no Node.js or Python process that reported; recorded without chunk data`,
      );
    }
    for (const file of [...locator.changedFiles].sort()) {
      warnings.push(`${file} changed since snapshot ${snapshotId.slice(0, 12)}; its chunks are not recorded`);
    }

    const writable = await openStore(storePath, { create: false, wait: true });
    try {
      const byPath = new Map(indexed.map((f) => [f.path, f]));
      const chunksUsed = await locator.chunks(async (files) => {
        const analyses = await loadAnalyses(
          writable,
          content.analyzerVersion,
          files.map((f) => byPath.get(f)!),
        );
        const ranges = new Map<string, FileChunkRanges>();
        for (const [file, analysis] of analyses) {
          ranges.set(
            file,
            analysis.chunks.map((c) => ({
              id: chunkId(file, c.localId),
              startByte: c.startByte,
              endByte: c.endByte,
              startLine: c.startLine,
              endLine: c.endLine,
            })),
          );
        }
        return ranges;
      });
      const record: ExecutionRecord = {
        id: newRecordId(startedMs),
        submission: submissionOf(root, options.command, options.args),
        snapshot: snapshotId,
        chunksUsed,
        resources: {
          wallMs: Math.round(wallMs * 10) / 10,
          cpuMs: Math.round((usage.userMs + usage.systemMs) * 10) / 10,
          maxRssKb: Math.round(usage.maxRssKb),
        },
        exitCode,
        startedAt: new Date(startedMs).toISOString(),
      };
      if (options.labels !== undefined && Object.keys(options.labels).length > 0)
        record.labels = options.labels;
      await writable.putRecords([record]);
      return { record, chunkData: reported > 0, warnings };
    } finally {
      await writable.close();
    }
  } finally {
    if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
  }
}
