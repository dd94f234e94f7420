/**
 * Running a submission in an environment directory (`ccx resolve --run`): sandboxed by
 * src/exec/sandbox.ts, with the store's files served on a Unix socket for the module hook of
 * hooks/loader.ts, so that an ES module the slice lacks is loaded from the store at run time and
 * recorded. A Unix socket is reached through the file system, so it works in a sandbox without
 * network; its directory and the hook's are mounted read-only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadHeadSnapshot, type SnapshotContent } from '../chunking/snapshot.js';
import { resolveStorePath } from '../store/location.js';
import { openStore } from '../store/store.js';
import type { EnvironmentRecord } from './environment.js';

/** How a run in an environment went. */
export interface EnvironmentRun {
  sandbox: 'bubblewrap' | 'process';
  /** Why not bubblewrap, when not. */
  sandboxReason?: string;
  /** The command's exit status; 128 + signal number when killed; 124 past the time limit. */
  exitCode: number;
  wallMs: number;
  maxRssKb: number;
  timedOut: boolean;
  /** Repository paths the module hook loaded from the store, in order. */
  dynamic: string[];
}

const HOOKS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'hooks');

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGTERM: 15,
  SIGABRT: 6,
};

/**
 * Runs `command` in `envDir` with stdio passed through.
 * @param options.limits the environment's limits from the history (p95); the time limit is ten
 *   times the wall time (at least 30 s, 5 minutes without history), the memory limit four times
 *   the RSS (at least 2 GiB, below which V8 may not start under an address-space limit; none
 *   without history)
 */
export async function runInEnvironment(options: {
  root: string;
  store?: string;
  envDir: string;
  command: string[];
  prefer?: 'bubblewrap' | 'process';
  limits: EnvironmentRecord['limits'];
  /** Capture output instead of passing it through (tests). */
  capture?: boolean;
}): Promise<EnvironmentRun & { stdout?: string; stderr?: string }> {
  const store = await openStore(resolveStorePath(options.root, options.store), { create: false });
  const socketDir = mkdtempSync(path.join(tmpdir(), 'ccx-store-socket-'));
  const socket = path.join(socketDir, 'store.sock');
  const dynamic: string[] = [];
  try {
    const snapshot = await loadHeadSnapshot(store, options.root);
    const files = new Map((snapshot.content as SnapshotContent).files.map((f) => [f.path, f.sha256]));
    const server = createServer((req, res) => {
      const rel = new URL(req.url ?? '/', 'http://store').searchParams.get('path') ?? '';
      const sha = files.get(rel);
      if (sha === undefined) {
        res.writeHead(404).end();
        return;
      }
      store.readFileBytes(sha).then(
        (bytes) => {
          dynamic.push(rel);
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
        },
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, resolve);
    });
    try {
      const { detectSandbox, runSandboxed } = await import('../exec/sandbox.js');
      const detected = await detectSandbox();
      const { wallMs, maxRssKb } = options.limits;
      const result = await runSandboxed({
        envDir: options.envDir,
        command: options.command,
        env: {
          NODE_OPTIONS: `--import=${pathToFileURL(path.join(HOOKS_DIR, 'register.js')).href}`,
          CCX_STORE_SOCKET: socket,
        },
        timeLimitMs: wallMs > 0 ? Math.max(30_000, wallMs * 10) : 300_000,
        memoryLimitMb: maxRssKb > 0 ? Math.max(2048, Math.ceil((maxRssKb * 4) / 1024)) : undefined,
        extraReadOnly: [HOOKS_DIR, socketDir],
        prefer: options.prefer,
        stdio: options.capture ? 'pipe' : 'inherit',
      });
      const exitCode = result.timedOut
        ? 124
        : (result.exitCode ?? (result.signal !== null ? 128 + (SIGNALS[result.signal] ?? 0) : 1));
      return {
        sandbox: result.sandbox,
        ...(result.sandbox === 'bubblewrap'
          ? {}
          : { sandboxReason: detected.reason ?? 'asked for a plain process' }),
        exitCode,
        wallMs: Math.round(result.wallMs),
        maxRssKb: result.maxRssKb,
        timedOut: result.timedOut,
        dynamic,
        ...(options.capture ? { stdout: result.stdout, stderr: result.stderr } : {}),
      };
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
    await store.close();
  }
}
