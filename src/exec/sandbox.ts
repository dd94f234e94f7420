/**
 * Running a command inside a prepared environment directory, sandboxed (`ccx resolve --run`):
 * under bubblewrap where it is installed and works (no network, the environment and the system
 * read-only, one writable temporary directory, time and memory limits), otherwise as a plain
 * child process that has the same time and memory limits but whose writes and network are not
 * confined. The result says which (`sandbox`), so that the CLI can say it too.
 *
 * Limits and measures, and where they come from:
 * - time: a wall-clock timer here; on expiry the whole process tree is killed with SIGKILL
 *   (found through /proc by parent id, plus the process group; under bubblewrap also its PID
 *   namespace, which dies with its first process).
 * - memory: RLIMIT_AS (address space, per process, inherited by children) set by `ulimit -v` in a
 *   `/bin/sh` wrapper; bubblewrap has no cgroups to offer without a privileged helper.
 * - max RSS: GNU time (`/usr/bin/time -f %M`, from wait4(2)) around the sandbox where present;
 *   else ccx's own getrusage(RUSAGE_CHILDREN) through the native addon, when the run raised it
 *   (see src/exec/run.ts); and in any case the largest VmHWM seen sampling /proc (at 10, 30 and
 *   60 ms, then every 100 ms), which also covers a run killed at its time limit. The bubblewrap
 *   sandbox runs with `--as-pid-1` and a shell as its first process so that bwrap itself waits
 *   for the command and the rusage reaches GNU time (bwrap's own init does not pass it on).
 */
import {
  accessSync,
  existsSync,
  constants as fsConstants,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { loadNativeFlatten } from '../chunking/native.js';
import { CcxError, NotFoundError, UsageError } from '../errors.js';

/** Which sandbox a command ran in. */
export type SandboxKind = 'bubblewrap' | 'process';

/** What {@link detectSandbox} found. */
export interface SandboxDetection {
  /** `'bubblewrap'` when bwrap is on PATH and a probe run with the flags ccx uses succeeded. */
  kind: SandboxKind;
  /** Why not bubblewrap (bwrap missing, or its first line of complaint); absent for bubblewrap. */
  reason?: string;
}

/** How to run the command; only `envDir` and `command` are required. */
export interface SandboxOptions {
  /**
   * The environment directory (host path). Under bubblewrap it is mounted read-only at `/env`
   * and is the only part of the host's files the command sees besides the system directories,
   * the interpreter's installation and `extraReadOnly`.
   */
  envDir: string;
  /**
   * The program and its arguments, e.g. `['node', 'test/a.js']`. A bare name is looked up on the
   * host `PATH` (a pyenv shim is resolved to the interpreter it stands for); a name with a slash
   * is taken relative to the working directory. Arguments are passed as they are: name files
   * relative to `cwd`, since host paths into `envDir` do not exist under bubblewrap.
   */
  command: string[];
  /** Working directory, relative to `envDir` (default `'.'`). */
  cwd?: string;
  /**
   * Variables added to the clean environment, which holds only `PATH` (under bubblewrap: the
   * interpreter's bin directory, `/usr/local/bin`, `/usr/bin`, `/bin`; otherwise the host's),
   * `HOME` and `TMPDIR` (the writable temporary directory) and `LANG` (the host's, or
   * `C.UTF-8`).
   */
  env?: Record<string, string>;
  /** Wall-clock limit in milliseconds; past it the process tree is killed and `timedOut` set. */
  timeLimitMs?: number;
  /**
   * Address-space limit in MiB for each process (RLIMIT_AS, not RSS, not the tree's total).
   * Python starts under about 20 MiB and fails with `MemoryError` past it. Node.js reserves
   * virtual memory up front: below about 768 MiB it cannot start (below about 200 MiB it may
   * hang until the time limit), and about 1 GiB leaves it a little over 100 MiB to allocate;
   * give Node.js 1.5 GiB or more plus what it needs. When the shell cannot set the limit (a lower
   * hard limit), the command does not run and the exit status is 125.
   */
  memoryLimitMb?: number;
  /** Share the host's network (bubblewrap only; a plain process always has it). Default false. */
  allowNetwork?: boolean;
  /** Shorthand for all three streams; `stdin`, `stdout`, `stderr` override it. Default `'pipe'`. */
  stdio?: 'inherit' | 'pipe';
  /** `'pipe'` feeds `input` (default: nothing, so reads see end of file). */
  stdin?: 'inherit' | 'pipe' | 'ignore';
  /** `'pipe'` captures into the result's `stdout`. */
  stdout?: 'inherit' | 'pipe';
  /** `'pipe'` captures into the result's `stderr`. */
  stderr?: 'inherit' | 'pipe';
  /** What a piped stdin receives. */
  input?: string;
  /** `'process'` skips bubblewrap even where it works; `'bubblewrap'` (default) uses it where it works. */
  prefer?: SandboxKind;
  /** Host paths mounted read-only at the same path under bubblewrap (ignored by a plain process). */
  extraReadOnly?: string[];
  /** Keep the temporary directory after the run (its path is in the result). Default false. */
  keepTmp?: boolean;
}

/** How the command ran. */
export interface SandboxResult {
  sandbox: SandboxKind;
  /** Why not bubblewrap, when not. */
  reason?: string;
  /**
   * The exit status, or null when killed by a signal that ccx saw. Under bubblewrap a signal
   * inside the sandbox arrives as 128 + its number (bwrap reports it so), with `signal` null.
   */
  exitCode: number | null;
  /** The signal that ended the command (`'SIGKILL'` after the time limit), or null. */
  signal: string | null;
  /** The time limit was reached and the process tree killed. */
  timedOut: boolean;
  /**
   * With a memory limit and captured stderr: whether the command failed with an out-of-memory
   * message (Python's `MemoryError`, V8's allocation failures, `Cannot allocate memory`);
   * undefined otherwise, since an address-space limit leaves no other trace.
   */
  memoryExceeded?: boolean;
  /** Milliseconds from start to exit, sandbox set-up included (a few milliseconds). */
  wallMs: number;
  /**
   * The largest peak resident set size of any one process of the run (not their sum), in KiB:
   * exact from GNU time or the native addon's getrusage, else sampled from /proc (may miss short
   * peaks); 0 when none of them is at hand (no /proc, no GNU time, no addon).
   */
  maxRssKb: number;
  /** Captured output, with `'pipe'`. */
  stdout?: string;
  stderr?: string;
  /**
   * The host path of the writable temporary directory (`/tmp`, `HOME` and `TMPDIR` inside);
   * removed after the run unless `keepTmp`.
   */
  tmpDir: string;
}

/** The command to run is not on PATH, or the file named is not there or not executable (exit 2). */
export class CommandNotFoundError extends CcxError {
  constructor(command: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_COMMAND_NOT_FOUND', `command not found: ${command}`, {
      hint:
        options.hint ??
        'install it or put its directory on PATH; the sandbox runs programs found on the host PATH',
      cause: options.cause,
    });
  }
}

/** The sandbox could not be started (exit 2); the command's own failures are results, not this. */
export class SandboxError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_SANDBOX', message, options);
  }
}

/** Where the environment directory and the temporary directory appear under bubblewrap. */
const ENV_MOUNT = '/env';
const TMP_MOUNT = '/tmp';
/** Size of the private /dev/shm under bubblewrap (Python's multiprocessing needs one). */
const SHM_BYTES = 64 * 1024 * 1024;
/** How often /proc is sampled for peak RSS, and how long a tree has to die before a wider kill. */
const SAMPLE_MS = 100;
const EARLY_SAMPLES_MS = [10, 20, 30];
const KILL_GRACE_MS = 2000;
/** How long output may still arrive after the command exited. */
const DRAIN_MS = 1000;
/** Top-level directories that are (or link to) system files, visible read-only under bubblewrap. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/**
 * The parts of /etc that the dynamic loader, name lookup, time zones and TLS need; the rest of
 * /etc (shadow, credentials, host configuration) stays out of sight.
 */
const ETC_FILES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/gai.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/mime.types',
];
/** Python, V8 (heap, array buffers, reservations), libc and C++ on running out of memory. */
const OOM_MESSAGE =
  /MemoryError|out of memory|Cannot allocate memory|bad_alloc|allocation failed|to reserve virtual memory/i;

interface Bubblewrap {
  path: string;
  /** `--size` for a tmpfs (bwrap 0.7 and later). */
  tmpfsSize: boolean;
}

let detection: Promise<{ result: SandboxDetection; bwrap?: Bubblewrap }> | undefined;
let gnuTime: Promise<string | undefined> | undefined;

/**
 * Whether bubblewrap can sandbox commands here: bwrap is on PATH and a probe with the flags ccx
 * uses (`--unshare-all`, `--proc`, `--dev`, read-only binds, `--remount-ro /`) runs
 * `/bin/sh -c 'exit 0'`. Containers without
 * user namespaces, or AppArmor profiles that forbid them, fail the probe. Asked once per process.
 */
export async function detectSandbox(): Promise<SandboxDetection> {
  return (await detectBubblewrap()).result;
}

function detectBubblewrap(): Promise<{ result: SandboxDetection; bwrap?: Bubblewrap }> {
  detection ??= (async () => {
    const bwrapPath = findOnPath('bwrap', process.env.PATH ?? '');
    if (bwrapPath === undefined) {
      return { result: { kind: 'process' as const, reason: 'bubblewrap (bwrap) is not installed' } };
    }
    const { execa } = await import('execa');
    const help = await execa(bwrapPath, ['--help'], { reject: false, timeout: 10_000 });
    const sizeListed = /--size\b/.test(String(help.stdout));
    const probeDir = mkdtempSync(path.join(tmpdir(), 'ccx-sandbox-probe-'));
    try {
      const tmp = path.join(probeDir, 'tmp');
      mkdirSync(tmp);
      let complaint = '';
      // A setuid bwrap lists --size but refuses it: then try again without the sized /dev/shm.
      for (const tmpfsSize of sizeListed ? [true, false] : [false]) {
        const bwrap: Bubblewrap = { path: bwrapPath, tmpfsSize };
        const args = bubblewrapArgs(bwrap, {
          envDir: probeDir,
          tmpDir: tmp,
          cwd: '.',
          readOnly: [],
          allowNetwork: false,
          command: ['/bin/sh', '-c', 'exit 0'],
        });
        const probe = await execa(bwrapPath, args, {
          reject: false,
          timeout: 10_000,
          env: { PATH: '/usr/bin:/bin' },
          extendEnv: false,
        });
        if (probe.exitCode === 0) return { result: { kind: 'bubblewrap' as const }, bwrap };
        complaint ||= String(probe.stderr).trim().split('\n')[0] || probe.shortMessage || 'no message';
      }
      return { result: { kind: 'process' as const, reason: `bubblewrap does not work here: ${complaint}` } };
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
  })();
  return detection;
}

/** GNU time's path, when /usr/bin/time is GNU time (it takes `-f` and `-o`), else undefined. */
function detectGnuTime(): Promise<string | undefined> {
  gnuTime ??= (async () => {
    const candidate = '/usr/bin/time';
    if (!existsSync(candidate)) return undefined;
    const { execa } = await import('execa');
    const r = await execa(candidate, ['-f', '%M', '-o', '/dev/null', 'true'], {
      reject: false,
      timeout: 10_000,
      env: { PATH: '/usr/bin:/bin' },
      extendEnv: false,
    });
    return r.exitCode === 0 ? candidate : undefined;
  })();
  return gnuTime;
}

/**
 * Runs the command in the environment directory, sandboxed by bubblewrap where
 * {@link detectSandbox} says it works (unless `prefer: 'process'`), else as a plain child process.
 *
 * Under bubblewrap the command sees: /usr and the /bin, /sbin, /lib* links or directories, part of
 * /etc, the interpreter's installation (the prefix of the resolved program, e.g. a pyenv version)
 * and `extraReadOnly`, all read-only; `envDir` read-only at `/env`; a fresh temporary directory
 * writable at `/tmp` (`HOME` and `TMPDIR` too); private /proc; a read-only /dev with the usual
 * devices and a private in-memory /dev/shm of 64 MiB for POSIX semaphores (Python's
 * multiprocessing; bwrap 0.7 and later, read-only with older ones); no network (unless
 * `allowNetwork`); its own PID, IPC, UTS and user namespaces, and a new session (no controlling
 * terminal to inject input into). Nothing else is writable. The user id stays the caller's.
 *
 * A plain process runs in `envDir` with the clean environment and the same time and memory
 * limits, but its writes, its network and its view of the host are not confined.
 *
 * The command's own failures (non-zero exit, a signal, the limits) are results, never thrown.
 * The process tree left behind by the command is killed when the command ends, and when this
 * process exits.
 *
 * @throws NotFoundError when `envDir`, the working directory or an `extraReadOnly` path is missing.
 * @throws UsageError when `command` is empty, `cwd` leaves `envDir` or a limit is not positive.
 * @throws CommandNotFoundError when the program is not on PATH or not executable.
 * @throws SandboxError when the sandbox itself (bwrap, the shell wrapper) cannot be started.
 */
export async function runSandboxed(options: SandboxOptions): Promise<SandboxResult> {
  const envDir = path.resolve(options.envDir);
  if (!isDirectory(envDir)) {
    throw new NotFoundError(`environment directory ${envDir} does not exist`, {
      hint: 'materialize the environment first (ccx resolve)',
    });
  }
  const cwdRel = path.normalize(options.cwd ?? '.');
  const hostCwd = path.resolve(envDir, cwdRel);
  const relCwd = path.relative(envDir, hostCwd);
  if (relCwd.startsWith('..') || path.isAbsolute(relCwd)) {
    throw new UsageError(`working directory ${options.cwd} is outside the environment directory`);
  }
  if (!isDirectory(hostCwd)) throw new NotFoundError(`working directory ${hostCwd} does not exist`);
  const [program, ...args] = options.command;
  if (program === undefined || program === '') throw new UsageError('no command to run');
  for (const [name, value] of [
    ['time limit', options.timeLimitMs],
    ['memory limit', options.memoryLimitMb],
  ] as const) {
    if (value !== undefined && !(value > 0))
      throw new UsageError(`the ${name} must be positive, not ${value}`);
  }
  const extraReadOnly = (options.extraReadOnly ?? []).map((p) => path.resolve(p));
  for (const p of extraReadOnly) {
    if (!existsSync(p))
      throw new NotFoundError(`${p}, to be mounted read-only in the sandbox, does not exist`);
  }

  const detected =
    options.prefer === 'process'
      ? { result: { kind: 'process' as const, reason: 'a plain process was asked for' } }
      : await detectBubblewrap();
  const sandbox = detected.result.kind;
  const hostPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const resolved = await resolveProgram(program, envDir, hostCwd, hostPath, sandbox === 'bubblewrap');
  const time = await detectGnuTime();

  const tmpDir = mkdtempSync(path.join(tmpdir(), 'ccx-sandbox-'));
  // GNU time's report stays out of the command's temporary directory, so that a sandboxed
  // command can neither see nor forge it.
  const reportDir = mkdtempSync(path.join(tmpdir(), 'ccx-sandbox-rusage-'));
  const rusageFile = path.join(reportDir, 'rusage');
  try {
    const lang = process.env.LANG ?? 'C.UTF-8';
    const limitScript =
      options.memoryLimitMb === undefined
        ? ''
        : `ulimit -v ${Math.floor(options.memoryLimitMb * 1024)} || exit 125\n`;
    let file: string;
    let fileArgs: string[];
    let env: Record<string, string>;
    if (sandbox === 'bubblewrap' && detected.bwrap !== undefined) {
      const binDirs = resolved.prefix === undefined ? [] : [path.dirname(resolved.sandboxPath)];
      env = {
        PATH: [...binDirs, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
        HOME: TMP_MOUNT,
        TMPDIR: TMP_MOUNT,
        LANG: lang,
        ...options.env,
      };
      // The shell stays as the sandbox's first process and waits for the command, rather than
      // exec'ing it: the command then keeps ordinary signal handling (PID 1 ignores signals it
      // has no handler for) and its rusage reaches GNU time through bwrap's own wait.
      const script = `${limitScript}"$@"\nexit $?`;
      file = detected.bwrap.path;
      fileArgs = bubblewrapArgs(detected.bwrap, {
        envDir,
        tmpDir,
        cwd: relCwd,
        readOnly: [...(resolved.prefix === undefined ? [] : [resolved.prefix]), ...extraReadOnly],
        allowNetwork: options.allowNetwork ?? false,
        command: ['/bin/sh', '-c', script, 'sh', resolved.sandboxPath, ...args],
      });
    } else {
      env = { PATH: hostPath, HOME: tmpDir, TMPDIR: tmpDir, LANG: lang, ...options.env };
      if (limitScript === '') {
        file = resolved.hostPath;
        fileArgs = args;
      } else {
        file = '/bin/sh';
        fileArgs = ['-c', `${limitScript}exec "$@"`, 'sh', resolved.hostPath, ...args];
      }
    }
    if (time !== undefined) {
      fileArgs = ['-o', rusageFile, '-f', 'ccx-max-rss-kb %M', file, ...fileArgs];
      file = time;
    }

    const stdin = options.stdin ?? options.stdio ?? 'pipe';
    const stdout = options.stdout ?? options.stdio ?? 'pipe';
    const stderr = options.stderr ?? options.stdio ?? 'pipe';
    const { execa } = await import('execa');
    const usageBefore = childrenUsage();
    const started = performance.now();
    const child = execa(file, fileArgs, {
      cwd: sandbox === 'bubblewrap' ? tmpDir : hostCwd,
      env,
      extendEnv: false,
      stdin,
      stdout,
      stderr,
      ...(stdin === 'pipe' ? { input: options.input ?? '' } : {}),
      reject: false,
      stripFinalNewline: false,
      // Its own process group, so that the tree can be killed without killing ccx.
      detached: true,
    });
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    installExitHandler();

    let sampledRssKb = 0;
    const sample = () => {
      if (pid !== undefined) sampledRssKb = Math.max(sampledRssKb, peakRssKb([pid, ...descendantsOf(pid)]));
    };
    // Early samples too, so that a run of a few tens of milliseconds is seen at least once.
    let sampler: NodeJS.Timeout | undefined;
    let sampling = true;
    const schedule = (i: number) => {
      sampler = setTimeout(() => {
        sample();
        if (sampling) schedule(i + 1);
      }, EARLY_SAMPLES_MS[i] ?? SAMPLE_MS);
    };
    schedule(0);
    const stopSampling = () => {
      sampling = false;
      clearTimeout(sampler);
    };
    let timedOut = false;
    let exited = false;
    let wallMs = 0;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const limitTimer =
      options.timeLimitMs === undefined || pid === undefined
        ? undefined
        : setTimeout(() => {
            if (exited) return;
            timedOut = true;
            sample();
            // GNU time is spared so that it reports how the command ended; the rest goes now.
            killTree(pid, time === undefined);
            graceTimer = setTimeout(() => killTree(pid, true), KILL_GRACE_MS);
            graceTimer.unref();
          }, options.timeLimitMs);
    child.once('exit', () => {
      exited = true;
      wallMs = performance.now() - started;
      stopSampling();
      // Whatever the command left running in its process group goes with it; under bubblewrap
      // the PID namespace has already taken care of that.
      if (pid !== undefined) killGroup(pid);
      // A plain process can leave its session and keep our pipes open; stop waiting for it.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_MS);
      drainTimer.unref();
    });
    const result = await child;
    if (wallMs === 0) wallMs = performance.now() - started;
    stopSampling();
    const usageAfter = childrenUsage();
    if (limitTimer !== undefined) clearTimeout(limitTimer);
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    if (drainTimer !== undefined) clearTimeout(drainTimer);
    if (pid !== undefined) live.delete(pid);

    if (result.exitCode === undefined && result.signal === undefined) {
      throw new SandboxError(`could not start ${sandbox === 'bubblewrap' ? 'bubblewrap' : program}`, {
        hint: result.shortMessage,
        cause: result,
      });
    }
    let exitCode: number | null = result.exitCode ?? null;
    let signal: string | null = result.signal ?? null;
    let maxRssKb = sampledRssKb;
    // getrusage(RUSAGE_CHILDREN) keeps the largest peak of every child ever waited for, so it
    // tells this run's peak only when the run raised it.
    if (usageBefore !== null && usageAfter !== null && usageAfter.maxRssKb > usageBefore.maxRssKb) {
      maxRssKb = Math.max(maxRssKb, usageAfter.maxRssKb);
    }
    if (time !== undefined && existsSync(rusageFile)) {
      const report = readFileSync(rusageFile, 'utf8');
      const rss = /ccx-max-rss-kb (\d+)/.exec(report);
      if (rss !== null) maxRssKb = Math.max(maxRssKb, Number(rss[1]));
      // GNU time exits with 128 + the signal that ended its command; its report says which.
      const killed = /Command terminated by signal (\d+)/.exec(report);
      if (killed !== null && signal === null) {
        exitCode = null;
        signal = signalName(Number(killed[1]));
      }
    }
    const out: SandboxResult = {
      sandbox,
      ...(detected.result.reason === undefined ? {} : { reason: detected.result.reason }),
      exitCode,
      signal,
      timedOut,
      wallMs: Math.round(wallMs * 10) / 10,
      maxRssKb,
      tmpDir,
    };
    if (stdout === 'pipe') out.stdout = String(result.stdout);
    if (stderr === 'pipe') out.stderr = String(result.stderr);
    if (options.memoryLimitMb !== undefined && out.stderr !== undefined && !timedOut) {
      out.memoryExceeded = exitCode !== 0 && OOM_MESSAGE.test(out.stderr);
    }
    return out;
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
    if (options.keepTmp !== true) rmSync(tmpDir, { recursive: true, force: true });
  }
}

interface BubblewrapPlan {
  envDir: string;
  tmpDir: string;
  /** Working directory relative to envDir. */
  cwd: string;
  /** Host paths to mount read-only at the same path. */
  readOnly: string[];
  allowNetwork: boolean;
  command: string[];
}

/** The bwrap argument list; the order matters, since later mounts go on top of earlier ones. */
function bubblewrapArgs(bwrap: Bubblewrap, plan: BubblewrapPlan): string[] {
  const args = ['--unshare-all'];
  if (plan.allowNetwork) args.push('--share-net');
  args.push('--die-with-parent', '--new-session', '--as-pid-1');
  for (const dir of SYSTEM_DIRS) {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    // A merged-/usr system has /bin -> usr/bin: keep the link rather than mount the target twice.
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) args.push('--ro-bind-try', file, file);
  args.push('--proc', '/proc', '--dev', '/dev');
  if (bwrap.tmpfsSize) args.push('--size', String(SHM_BYTES), '--tmpfs', '/dev/shm');
  args.push('--remount-ro', '/dev');
  args.push('--ro-bind', plan.envDir, ENV_MOUNT);
  args.push('--bind', plan.tmpDir, TMP_MOUNT);
  // After /tmp, so that a read-only path under the host's /tmp is mounted on top of it.
  for (const p of plan.readOnly) args.push('--ro-bind', p, p);
  args.push('--chdir', path.posix.join(ENV_MOUNT, plan.cwd.split(path.sep).join('/')));
  // The root is a tmpfs bwrap made to hold the mount points; nothing may be written to it.
  args.push('--remount-ro', '/');
  args.push('--', ...plan.command);
  return args;
}

interface ResolvedProgram {
  /** What a plain process runs (PATH lookups as they are, shims included). */
  hostPath: string;
  /** What runs under bubblewrap. */
  sandboxPath: string;
  /** The installation to mount read-only under bubblewrap, when not a system directory. */
  prefix?: string;
}

/**
 * Finds the program as execvp would, and under bubblewrap also what must be visible for it to
 * run: a pyenv shim is a bash script that needs all of pyenv, so it is replaced by the
 * interpreter it stands for (`pyenv which`), and the interpreter's installation prefix (the
 * parent of its `bin` directory) is mounted read-only.
 */
async function resolveProgram(
  program: string,
  envDir: string,
  hostCwd: string,
  hostPath: string,
  forBubblewrap: boolean,
): Promise<ResolvedProgram> {
  if (program.includes('/')) {
    const absolute = path.resolve(hostCwd, program);
    if (!isExecutableFile(absolute)) {
      throw new CommandNotFoundError(program, {
        hint: `${absolute} is not there or not executable`,
      });
    }
    const rel = path.relative(envDir, absolute);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      return { hostPath: absolute, sandboxPath: path.posix.join(ENV_MOUNT, rel.split(path.sep).join('/')) };
    }
    return { hostPath: absolute, ...sandboxView(absolute) };
  }
  const found = findOnPath(program, hostPath);
  if (found === undefined) throw new CommandNotFoundError(program);
  if (!forBubblewrap) return { hostPath: found, sandboxPath: found };
  const target = (await resolvePyenvShim(program, found, hostCwd)) ?? found;
  return { hostPath: found, ...sandboxView(target) };
}

/** How a host program outside the environment is run under bubblewrap, and what to mount for it. */
function sandboxView(program: string): { sandboxPath: string; prefix?: string } {
  const real = realpathSync(program);
  if (isSystemPath(real)) return { sandboxPath: isSystemPath(program) ? program : real };
  const dir = path.dirname(real);
  const prefix = path.basename(dir) === 'bin' ? path.dirname(dir) : dir;
  // Keep the name it was called by (python3, not python3.11) when that is visible too.
  const visible = isSystemPath(program) || isUnder(path.dirname(program), prefix);
  return { sandboxPath: visible ? program : real, prefix };
}

/** The interpreter a pyenv shim stands for, or undefined when `file` is not a pyenv shim. */
async function resolvePyenvShim(program: string, file: string, cwd: string): Promise<string | undefined> {
  let text: string;
  try {
    if (statSync(file).size > 4096) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pyenv = /exec "([^"]+\/pyenv)" exec /.exec(text);
  if (!text.startsWith('#!') || pyenv === null) return undefined;
  const root = /export PYENV_ROOT="([^"]+)"/.exec(text);
  const { execa } = await import('execa');
  const r = await execa(pyenv[1]!, ['which', program], {
    cwd,
    reject: false,
    timeout: 30_000,
    env: root === null ? {} : { PYENV_ROOT: root[1]! },
  });
  const target = String(r.stdout).trim();
  if (r.exitCode !== 0 || target === '' || !isExecutableFile(target)) {
    throw new CommandNotFoundError(program, {
      hint: `pyenv has no ${program} for this directory: ${String(r.stderr).trim() || 'pyenv which failed'}`,
    });
  }
  return target;
}

/** The first executable regular file named `name` in the `PATH` directories. */
function findOnPath(name: string, pathList: string): string | undefined {
  for (const dir of pathList.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function isUnder(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

function isSystemPath(file: string): boolean {
  return SYSTEM_DIRS.some((dir) => isUnder(file, dir));
}

/** getrusage(RUSAGE_CHILDREN) through the native addon, or null without it. */
function childrenUsage(): { maxRssKb: number } | null {
  return loadNativeFlatten()?.childrenUsage?.() ?? null;
}

function signalName(n: number): string {
  const entry = Object.entries(osConstants.signals).find(([, number]) => number === n);
  return entry?.[0] ?? `SIG${n}`;
}

/** Parent id of every process, from /proc (empty where there is no /proc). */
function parentIds(): Map<number, number> {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return parents;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after the last ')' do not.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return parents;
}

/** Every live descendant of `root`, from /proc. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentIds()) {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const found: number[] = [];
  const queue = [root];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The largest VmHWM (peak RSS, KiB) among the processes, from /proc; 0 where unreadable. */
function peakRssKb(pids: number[]): number {
  let peak = 0;
  for (const pid of pids) {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm !== null) peak = Math.max(peak, Number(hwm[1]));
    } catch {
      // Exited, or a zombie without memory.
    }
  }
  return peak;
}

/**
 * SIGKILLs the descendants of `root` (twice over, for children forked while the first round was
 * on its way), and with `all` also `root` and its process group.
 */
function killTree(root: number, all: boolean): void {
  for (let round = 0; round < 2; round++) {
    for (const pid of descendantsOf(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  if (all) {
    killGroup(root);
    try {
      process.kill(root, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function killGroup(leader: number): void {
  try {
    process.kill(-leader, 'SIGKILL');
  } catch {
    // No member left.
  }
}

/** Process groups of runs in flight, killed if ccx exits first (the CLI exits on SIGINT/SIGTERM). */
const live = new Set<number>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const pid of live) killTree(pid, true);
  });
}
