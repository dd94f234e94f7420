/**
 * A Node.js module resolution hook (`module.register`, Node 20.6+) for processes running in a
 * sliced environment: when an ES module import names a file the environment lacks (a dynamic
 * `import()` static analysis could not follow), the file is fetched from the ccx store through
 * the Unix socket the ccx process serves (run-in-env.ts), written under a writable directory
 * that mirrors the repository's layout, and loaded from there. The ccx process records what it
 * served. Imports from a fetched file resolve against the environment first, then the store.
 *
 * Only node: built-ins are imported here: this file runs inside the sandbox, on the loader thread.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface HookData {
  socket: string;
  envDir: string;
  dynamicDir: string;
}

let data: HookData | undefined;

export function initialize(d: HookData): void {
  data = d;
}

type NextResolve = (specifier: string, context: unknown) => Promise<{ url: string; format?: string | null }>;

/** The repository path a file URL stands for: under the environment or the mirror, else null. */
function repoPath(url: URL): string | null {
  if (data === undefined || url.protocol !== 'file:') return null;
  const file = fileURLToPath(url);
  for (const base of [data.envDir, data.dynamicDir]) {
    const rel = path.relative(base, file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return null;
}

function fetchFromStore(rel: string): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const req = request(
      { socketPath: data!.socket, path: `/file?path=${encodeURIComponent(rel)}`, method: 'GET' },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(parts) : null));
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** `module` or `commonjs` for a `.js` file, from the nearest package.json in the environment. */
function formatOf(rel: string): 'module' | 'commonjs' {
  if (rel.endsWith('.mjs')) return 'module';
  if (rel.endsWith('.cjs')) return 'commonjs';
  let dir = path.posix.dirname(rel);
  for (;;) {
    const pkg = path.join(data!.envDir, dir === '.' ? '' : dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module'
          ? 'module'
          : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (dir === '.') return 'commonjs';
    dir = path.posix.dirname(dir);
  }
}

export async function resolve(
  specifier: string,
  context: { parentURL?: string },
  nextResolve: NextResolve,
): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/');
    if (data === undefined || code !== 'ERR_MODULE_NOT_FOUND' || !relative || context.parentURL === undefined)
      throw error;
    const rel = repoPath(new URL(specifier, context.parentURL));
    if (rel === null) throw error;
    const inEnv = path.join(data.envDir, rel);
    if (existsSync(inEnv))
      return { url: pathToFileURL(inEnv).href, format: formatOf(rel), shortCircuit: true };
    const mirrored = path.join(data.dynamicDir, rel);
    if (!existsSync(mirrored)) {
      const bytes = await fetchFromStore(rel);
      if (bytes === null) throw error;
      mkdirSync(path.dirname(mirrored), { recursive: true });
      writeFileSync(mirrored, bytes);
    }
    return { url: pathToFileURL(mirrored).href, format: formatOf(rel), shortCircuit: true };
  }
}
