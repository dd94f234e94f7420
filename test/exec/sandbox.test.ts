/**
 * src/exec/sandbox.ts: a command runs in an environment directory under bubblewrap where it
 * works (checked by detectSandbox), and there the network, writes outside the temporary
 * directory, too much time and too much memory are refused; Node.js and Python both run, and
 * output and exit status pass through. The plain-process fallback keeps the time and memory
 * limits and the exit status.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import {
  CommandNotFoundError,
  detectSandbox,
  runSandboxed,
  type SandboxKind,
  type SandboxOptions,
} from '../../src/exec/sandbox.js';

const SCRIPTS: Record<string, string> = {
  'exit.js': "process.stdout.write('out node\\n'); process.stderr.write('err node\\n'); process.exit(7);\n",
  'exit.py': "import sys\nprint('out python')\nprint('err python', file=sys.stderr)\nsys.exit(5)\n",
  // Prints `connected` or the error code; exit 0 only when connected.
  'connect.js': `const net = require('node:net');
const s = net.connect(Number(process.argv[2]), '127.0.0.1');
s.setTimeout(5000, () => { console.log('timeout'); process.exit(1); });
s.on('connect', () => { console.log('connected'); s.end(); });
s.on('error', (e) => { console.log(e.code); process.exit(1); });
`,
  'unix.js': `const net = require('node:net');
const s = net.connect(process.env.CCX_TEST_SOCKET);
s.on('connect', () => { console.log('connected'); s.end(); });
s.on('error', (e) => { console.log(e.code); process.exit(1); });
`,
  // Tries to write each path given; prints {path: 'ok' | error code}.
  'write.js': `const fs = require('node:fs');
const out = {};
for (const p of process.argv.slice(2)) {
  try { fs.writeFileSync(p, 'x'); out[p] = 'ok'; } catch (e) { out[p] = e.code; }
}
console.log(JSON.stringify(out));
`,
  'write.py': `import json, sys
out = {}
for p in sys.argv[1:]:
    try:
        open(p, 'w').write('x')
        out[p] = 'ok'
    except OSError as e:
        out[p] = type(e).__name__
print(json.dumps(out))
`,
  // A child that holds stdout open and a parent that never ends: only killing the tree ends them.
  'forever.js': `const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
console.log(child.pid);
setInterval(() => {}, 1000);
`,
  'alloc.py': "import sys\nb = bytearray(int(sys.argv[1]))\nprint('allocated', len(b))\n",
  // Touches 100 MB and holds it long enough to be seen however the peak RSS is measured.
  'resident.py':
    "import time\nb = bytearray(100_000_000)\nb[::4096] = b'x' * len(b[::4096])\ntime.sleep(0.4)\n",
  'alloc.js':
    "const b = new ArrayBuffer(Number(process.argv[2]));\nconsole.log('allocated', b.byteLength);\n",
  'sub/where.js': `const fs = require('node:fs');
console.log(JSON.stringify({
  cwd: process.cwd(),
  home: process.env.HOME,
  tmp: process.env.TMPDIR,
  given: process.env.CCX_TEST_GIVEN ?? null,
  leaked: process.env.CCX_TEST_LEAK ?? null,
  shadow: fs.existsSync('/etc/shadow'),
  hostEnvDir: fs.existsSync(process.argv[2]),
}));
`,
};

const temps: string[] = [];
let envDir: string;
let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  envDir = mkdtempSync(path.join(tmpdir(), 'ccx-sandbox-env-'));
  temps.push(envDir);
  for (const [name, text] of Object.entries(SCRIPTS)) {
    mkdirSync(path.dirname(path.join(envDir, name)), { recursive: true });
    writeFileSync(path.join(envDir, name), text);
  }
  server = createServer((socket) => {
    connections++;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function run(prefer: SandboxKind, command: string[], options: Partial<SandboxOptions> = {}) {
  return runSandboxed({ envDir, command, prefer, ...options });
}

/** Whether the process exists and is not a zombie waiting for its new parent to reap it. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const detected = await detectSandbox();
const noBubblewrap = detected.kind !== 'bubblewrap';

describe('detectSandbox', () => {
  it('answers once per process', async () => {
    expect(await detectSandbox()).toBe(detected);
  });

  it.runIf(noBubblewrap)('says why bubblewrap does not work', () => {
    expect(detected.reason ?? '').not.toBe('');
  });
});

describe.skipIf(noBubblewrap)('under bubblewrap', () => {
  it('runs Node.js and passes output and exit status through', async () => {
    const r = await run('bubblewrap', ['node', 'exit.js']);
    expect(r.sandbox).toBe('bubblewrap');
    expect(r.reason).toBeUndefined();
    expect(r.exitCode).toBe(7);
    expect(r.signal).toBeNull();
    expect(r.timedOut).toBe(false);
    expect(r.stdout).toBe('out node\n');
    expect(r.stderr).toBe('err node\n');
    expect(r.wallMs).toBeGreaterThan(0);
  });

  it('runs Python from its own installation, output and exit status passed through', async () => {
    const r = await run('bubblewrap', ['python3', 'exit.py']);
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toBe('out python\n');
    expect(r.stderr).toBe('err python\n');
  });

  it('measures the peak RSS of the command', async () => {
    const r = await run('bubblewrap', ['python3', 'resident.py']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.maxRssKb).toBeGreaterThan(95_000);
    expect(r.maxRssKb).toBeLessThan(1_000_000);
  });

  it('runs in the working directory with a clean environment and a narrow view of the host', async () => {
    const r = await run('bubblewrap', ['node', 'where.js', envDir], {
      cwd: 'sub',
      env: { CCX_TEST_GIVEN: 'yes' },
    });
    process.env.CCX_TEST_LEAK = '1';
    const leakCheck = await run('bubblewrap', ['node', 'where.js', envDir], { cwd: 'sub' });
    delete process.env.CCX_TEST_LEAK;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout!)).toEqual({
      cwd: '/env/sub',
      home: '/tmp',
      tmp: '/tmp',
      given: 'yes',
      leaked: null,
      shadow: false,
      hostEnvDir: false,
    });
    expect(JSON.parse(leakCheck.stdout!).leaked).toBeNull();
  });

  it('refuses the network unless allowed, while a plain process reaches the same listener', async () => {
    const before = connections;
    const sandboxed = await run('bubblewrap', ['node', 'connect.js', String(port)]);
    expect(sandboxed.exitCode).toBe(1);
    expect(sandboxed.stdout).not.toContain('connected');
    expect(connections).toBe(before);

    const plain = await run('process', ['node', 'connect.js', String(port)]);
    expect(plain.stdout).toBe('connected\n');
    expect(plain.exitCode).toBe(0);

    const allowed = await run('bubblewrap', ['node', 'connect.js', String(port)], { allowNetwork: true });
    expect(allowed.stdout).toBe('connected\n');
    expect(connections).toBe(before + 2);
  });

  it('reaches a Unix socket in a read-only extra path without the network', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ccx-sandbox-sock-'));
    temps.push(dir);
    const socket = path.join(dir, 's.sock');
    const unixServer = createServer((s) => s.end());
    await new Promise<void>((resolve) => unixServer.listen(socket, resolve));
    try {
      const r = await run('bubblewrap', ['node', 'unix.js'], {
        extraReadOnly: [dir],
        env: { CCX_TEST_SOCKET: socket },
      });
      expect(r.stdout, r.stderr).toBe('connected\n');
    } finally {
      await new Promise<void>((resolve) => unixServer.close(() => resolve()));
    }
  });

  it('refuses writes outside the temporary directory, which HOME and TMPDIR name', async () => {
    const targets = [
      'in-env.txt',
      '/env/abs.txt',
      '/root/x.txt',
      '/x.txt',
      '/usr/x.txt',
      '/etc/x.txt',
      '/dev/x.txt',
    ];
    const r = await run('bubblewrap', ['node', 'write.js', ...targets, '/tmp/t.txt'], { keepTmp: true });
    temps.push(r.tmpDir);
    const outcome = JSON.parse(r.stdout!) as Record<string, string>;
    for (const target of targets) expect(outcome[target], target).not.toBe('ok');
    expect(outcome['/tmp/t.txt']).toBe('ok');
    expect(existsSync(path.join(envDir, 'in-env.txt'))).toBe(false);
    expect(existsSync(path.join(envDir, 'abs.txt'))).toBe(false);
    expect(readFileSync(path.join(r.tmpDir, 't.txt'), 'utf8')).toBe('x');

    const py = await run('bubblewrap', ['python3', 'write.py', 'in-env.txt', '/root/x.txt', '/x.txt']);
    expect(Object.values(JSON.parse(py.stdout!))).not.toContain('ok');
    const home = await run('bubblewrap', [
      'sh',
      '-c',
      'echo hi > "$HOME/h" && echo hi > "$TMPDIR/t" && cat "$HOME/h"',
    ]);
    expect(home.stdout).toBe('hi\n');
    expect(existsSync(home.tmpDir)).toBe(false);
  });

  it('kills the whole process tree at the time limit', async () => {
    const r = await run('bubblewrap', ['node', 'forever.js'], { timeLimitMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.exitCode).toBeNull();
    expect(r.wallMs).toBeLessThan(5000);
  });

  it('stops a Python program that allocates past the memory limit', async () => {
    const over = await run('bubblewrap', ['python3', 'alloc.py', '2000000000'], { memoryLimitMb: 512 });
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toContain('MemoryError');
    expect(over.memoryExceeded).toBe(true);
    const under = await run('bubblewrap', ['python3', 'alloc.py', '50000000'], { memoryLimitMb: 512 });
    expect(under.stdout).toBe('allocated 50000000\n');
    expect(under.memoryExceeded).toBe(false);
  });

  it('stops a Node.js program that allocates past the memory limit', async () => {
    const over = await run('bubblewrap', ['node', 'alloc.js', String(3 * 2 ** 30)], { memoryLimitMb: 2048 });
    expect(over.exitCode).not.toBe(0);
    expect(over.stdout).toBe('');
    expect(over.memoryExceeded).toBe(true);
    const under = await run('bubblewrap', ['node', 'alloc.js', String(64 * 2 ** 20)], {
      memoryLimitMb: 2048,
    });
    expect(under.exitCode, under.stderr).toBe(0);
    expect(under.memoryExceeded).toBe(false);
  });

  it('reports a signal inside the sandbox as 128 + its number', async () => {
    const r = await run('bubblewrap', ['sh', '-c', 'kill -TERM $$']);
    expect(r.exitCode).toBe(143);
    expect(r.signal).toBeNull();
  });
});

describe('as a plain process', () => {
  it('passes output and exit status through, and says it was asked for', async () => {
    const r = await run('process', ['node', 'exit.js']);
    expect(r.sandbox).toBe('process');
    expect(r.reason).toBe('a plain process was asked for');
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toBe('out node\n');
    const py = await run('process', ['python3', 'exit.py']);
    expect(py.exitCode).toBe(5);
    expect(py.stdout).toBe('out python\n');
  });

  it('measures the peak RSS of the command', async () => {
    const r = await run('process', ['python3', 'resident.py']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.maxRssKb).toBeGreaterThan(95_000);
    expect(r.maxRssKb).toBeLessThan(1_000_000);
  });

  it('reports a signal by name', async () => {
    const r = await run('process', ['sh', '-c', 'kill -TERM $$']);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
  });

  it('kills the whole process tree at the time limit', async () => {
    const r = await run('process', ['node', 'forever.js'], { timeLimitMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.wallMs).toBeLessThan(5000);
    const grandchild = Number(r.stdout!.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(isRunning(grandchild)).toBe(false);
  });

  it('does not wait for a process that left its session to close the output', async () => {
    const script = 'setsid sh -c "echo \\$\\$; exec sleep 20" & sleep 0.3; echo done';
    const r = await run('process', ['sh', '-c', script], { timeLimitMs: 10_000 });
    const escaped = Number(r.stdout!.split('\n')[0]);
    if (escaped > 0) process.kill(escaped, 'SIGKILL');
    expect(r.stdout).toMatch(/^\d+\ndone\n$/);
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(false);
  });

  it('stops a program that allocates past the memory limit', async () => {
    const r = await run('process', ['python3', 'alloc.py', '2000000000'], { memoryLimitMb: 512 });
    expect(r.exitCode).toBe(1);
    expect(r.memoryExceeded).toBe(true);
  });

  it('runs in the working directory with HOME and TMPDIR in its temporary directory', async () => {
    const r = await run('process', ['node', 'where.js', envDir], { cwd: 'sub' });
    const seen = JSON.parse(r.stdout!);
    expect(seen.cwd).toBe(path.join(envDir, 'sub'));
    expect(seen.home).toBe(r.tmpDir);
    expect(seen.tmp).toBe(r.tmpDir);
    expect(existsSync(r.tmpDir)).toBe(false);
  });
});

describe('errors', () => {
  it.each(['bubblewrap', 'process'] as const)('names a command that is not there (%s)', async (prefer) => {
    const missing = run(prefer, ['ccx-no-such-program', 'x']);
    await expect(missing).rejects.toBeInstanceOf(CommandNotFoundError);
    await expect(missing).rejects.toMatchObject({ code: 'CCX_COMMAND_NOT_FOUND', hint: expect.any(String) });
    await expect(run(prefer, ['./missing.sh'])).rejects.toBeInstanceOf(CommandNotFoundError);
  });

  it('rejects a missing environment directory and a working directory outside it', async () => {
    await expect(
      runSandboxed({ envDir: path.join(envDir, 'nope'), command: ['node', '-v'] }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(run('process', ['node', '-v'], { cwd: '..' })).rejects.toMatchObject({ code: 'CCX_USAGE' });
  });
});
