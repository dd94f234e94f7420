/** Running the built CLI as a process, and temporary copies of fixtures. */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { execa } from 'execa';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CCX_BIN = path.join(REPO_ROOT, 'bin', 'ccx.js');
export const SPEC_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'spec');

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs `ccx ARGS` with a clean environment (PATH, HOME, NO_COLOR=1 and `env`). */
export async function runCcx(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const result = await execa(process.execPath, [CCX_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      NO_COLOR: '1',
      ...options.env,
    },
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
  });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
}

/** Runs `ccx ARGS` and returns stdout as a Buffer (for `ccx cat`). */
export async function runCcxBytes(
  args: string[],
  cwd = REPO_ROOT,
): Promise<{ stdout: Buffer; exitCode: number }> {
  const result = await execa(process.execPath, [CCX_BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' },
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
  });
  return { stdout: Buffer.from(result.stdout as Uint8Array), exitCode: result.exitCode ?? -1 };
}

const temps: string[] = [];

/** A fresh temporary directory, removed by {@link removeTemps}. */
export function makeTemp(prefix = 'ccx-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Copies fixtures/<rel> into a temporary directory and returns the copy's path. */
export function copyFixture(rel: string): string {
  const dir = path.join(makeTemp(), path.basename(rel));
  cpSync(path.join(REPO_ROOT, 'fixtures', rel), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A validator for shared/spec/manifest.schema.json (JSON Schema 2020-12, with formats). */
export function manifestValidator() {
  const ajv = new Ajv2020.default({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const schema = JSON.parse(readFileSync(path.join(SPEC_DIR, 'manifest.schema.json'), 'utf8'));
  return ajv.compile(schema);
}
