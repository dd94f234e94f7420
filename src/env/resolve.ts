/**
 * `ccx resolve SUBMISSION [--run]`: the environment a submission should run in. Its needed
 * chunks are its static closure (as `ccx predict` computes it); an environment holds a chunk when
 * it has the chunk id and the chunk's code has not changed since the environment's snapshot.
 *
 * - `hit`: an environment holds them all (the smallest such one is taken);
 * - `partial`: the environment holding the most of them is extended, as SOCK imports what a warm
 *   container lacks: the missing chunks (and what they pull in) are sliced into one new top layer
 *   over the environment's image, giving a new version of its profile;
 * - `miss`: nothing holds any of them: an environment is assembled on demand for the submission.
 *
 * `readyMs` runs from the call to the moment the environment's directory is ready to run in; the
 * OCI layout, Dockerfile context and Nix expression of a new version are written after that.
 * With `run`, the submission then runs in the directory, sandboxed (src/exec/sandbox.ts), with
 * the Node.js module hook of dynamic.ts loading modules the slice lacks from the store.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chunk } from '../chunking/chunk.js';
import { loadSnapshotManifest } from '../chunking/snapshot.js';
import { UsageError } from '../errors.js';
import { locateSubmission } from '../predict/predict.js';
import { sha256Hex } from '../store/file-record.js';
import { resolveStorePath } from '../store/location.js';
import { openStore } from '../store/store.js';
import { assembleEnvironment } from './assemble.js';
import {
  type Context,
  detectRuntime,
  type EnvironmentHint,
  type EnvironmentRecord,
  type EnvOptions,
  withContext,
  writeEnvironments,
  writeTree,
} from './environment.js';
import { writeOciImage } from './oci.js';
import { layerDirName, renderDockerfile, renderNix } from './recipes.js';

/** What `ccx resolve --json` prints. */
export interface ResolveResult {
  /** Id of the environment the submission runs in (a new one for `partial` and `miss`). */
  environment: string;
  match: 'hit' | 'partial' | 'miss';
  /** Chunk ids added to the matched environment (`partial`) or assembled (`miss`), sorted. */
  merged: string[];
  /** Milliseconds until the environment's directory was ready. */
  readyMs: number;
  /** The sandbox the run used, or null without `run`. */
  sandbox: 'bubblewrap' | 'process' | null;
  run: { exitCode: number; wallMs: number; maxRssKb: number } | null;
}

/** More than `ccx resolve --json` prints: for the text output and the tests. */
export interface ResolveDetails extends ResolveResult {
  /** The directory the submission runs in. */
  dir: string;
  /** The environment matched (for `partial`, the one extended); null for a miss. */
  matched: string | null;
  /** Files loaded from the store at run time by the module hook (repository paths). */
  dynamic: string[];
  /** Why the sandbox is not bubblewrap, when it is not. */
  sandboxReason?: string;
  /** The command run. */
  command: string[] | null;
  /** The run's output, with `capture`. */
  stdout?: string;
  stderr?: string;
}

/** The command that runs a submission file: by extension, else the arguments given. */
function commandFor(entry: string, args: string[]): string[] {
  if (/\.(c|m)?js$/.test(entry)) return ['node', entry, ...args];
  if (entry.endsWith('.py')) return ['python3', entry, ...args];
  throw new UsageError(`ccx does not know how to run ${entry}`, {
    hint: 'give the command after --, e.g. `ccx resolve FILE --run -- node FILE`',
  });
}

/**
 * What checks learned a submission needs beyond its slice: its own hint, else the union of the
 * hints of submissions in the same directory (tests beside each other read the same fixtures).
 */
async function learnedNeeds(ctx: Context, entry: string): Promise<{ widened: string[]; dataDirs: string[] }> {
  const hints = (await ctx.store.listEnvironmentHints()) as EnvironmentHint[];
  const own = hints.filter((h) => h.entry === entry);
  const dir = path.posix.dirname(entry);
  const near = own.length > 0 ? own : hints.filter((h) => path.posix.dirname(h.entry) === dir);
  return {
    widened: [...new Set(near.flatMap((h) => h.widened))].sort(),
    dataDirs: [...new Set(near.flatMap((h) => h.dataDirs))].sort(),
  };
}

/** Chunk ids an environment holds whose code is the same as in the head snapshot. */
async function freshChunks(
  ctx: Context,
  env: EnvironmentRecord,
  manifests: Map<string, Map<string, string>>,
): Promise<Set<string>> {
  const head = new Map(ctx.manifest.chunks.map((c) => [c.id, c.hash]));
  if (env.snapshot === ctx.snapshot) return new Set(env.chunks.filter((id) => head.has(id)));
  let then = manifests.get(env.snapshot);
  if (then === undefined) {
    const snapshot = await ctx.store.getSnapshot(env.snapshot);
    then = new Map();
    if (snapshot !== undefined)
      for (const c of (await loadSnapshotManifest(ctx.store, snapshot)).chunks) then.set(c.id, c.hash);
    manifests.set(env.snapshot, then);
  }
  return new Set(env.chunks.filter((id) => head.get(id) !== undefined && head.get(id) === then!.get(id)));
}

/**
 * Finds, extends or assembles the environment for a submission, and runs it with `run`.
 * @param submission a file or directory inside the root
 * @param options.args the command to run (default: by the file's extension) — with `run`
 * @throws UsageError for a submission outside the root or holding no indexed file
 */
export async function resolveSubmission(
  submission: string,
  options: EnvOptions & {
    run?: boolean;
    command?: string[];
    prefer?: 'bubblewrap' | 'process';
    /** Capture the run's output into `stdout`/`stderr` instead of passing it through. */
    capture?: boolean;
  } = {},
): Promise<ResolveDetails> {
  const t0 = performance.now();
  const root = path.resolve(options.root ?? '.');
  const rel = locateSubmission(root, submission);
  await chunk({ root, store: options.store, manifest: false, wait: options.wait });
  const found = await withContext(options, async (ctx) => {
    const files = ctx.sets.filesUnder(rel === '' ? '.' : rel);
    if (files.length === 0) {
      throw new UsageError(`${submission} holds no file ccx indexes`, {
        hint: 'give a source file or a directory of them',
      });
    }
    const needed = ctx.sets.of(files).staticSet;
    const envs = ((await ctx.store.listEnvironments()) as EnvironmentRecord[]).filter((e) =>
      existsSync(e.paths.dir),
    );
    const manifests = new Map<string, Map<string, string>>();
    let best: { env: EnvironmentRecord; held: Set<string>; have: number } | undefined;
    for (const env of envs) {
      const held = await freshChunks(ctx, env, manifests);
      const have = needed.filter((id) => held.has(id)).length;
      const full = have === needed.length;
      const bestFull = best !== undefined && best.have === needed.length;
      if (
        have > 0 &&
        (best === undefined ||
          (full && !bestFull) ||
          (full === bestFull &&
            (full
              ? env.bytes < best.env.bytes
              : have > best.have || (have === best.have && env.bytes < best.env.bytes))))
      )
        best = { env, held, have };
    }
    if (best !== undefined && best.have === needed.length) {
      const env = { ...best.env, hits: best.env.hits + 1 };
      await ctx.store.putEnvironment(env);
      return {
        match: 'hit' as const,
        env,
        merged: [],
        readyMs: performance.now() - t0,
        matched: env.id,
        entry: files[0]!,
      };
    }
    const entry = files.length === 1 ? files[0]! : rel;
    const submissionHash = sha256Hex(Buffer.from(entry));
    const needs = await learnedNeeds(ctx, entry);
    if (best !== undefined) {
      const merged = needed.filter((id) => !best.held.has(id)).sort();
      const base = best.env;
      await ctx.store.putEnvironment({ ...base, hits: base.hits + 1 });
      const env = await extendEnvironment(ctx, base, needed, needs, { entry, hash: submissionHash }, t0);
      return {
        match: 'partial' as const,
        env: env.record,
        merged,
        readyMs: env.readyMs,
        matched: base.id,
        entry,
      };
    }
    const assembled = await assembleEnvironment({
      ...ctx,
      seeds: needed,
      wholeFiles: new Set(needs.widened),
      dataDirs: needs.dataDirs,
    });
    const runtime = await detectRuntime(assembled.languages);
    const profileId = sha256Hex(Buffer.from(submissionHash)).slice(0, 16);
    let readyMs = 0;
    const [record] = await writeEnvironments(
      ctx,
      [
        {
          profile: {
            id: profileId,
            submissions: [{ entry, hash: submissionHash, command: null, weight: 0 }],
            seeds: new Set(needed),
            records: [],
          },
          assembled,
          runtime,
          limits: { wallMs: 0, maxRssKb: 0 },
          check: {
            ran: 0,
            ok: true,
            widened: needs.widened,
            dataDirs: needs.dataDirs,
            keptWhole: assembled.keptWhole.map((k) => k.path),
            failures: [],
          },
        },
      ],
      {
        alongsideExisting: true,
        onDirReady: () => {
          readyMs = performance.now() - t0;
        },
      },
    );
    return {
      match: 'miss' as const,
      env: record!,
      merged: assembled.plan.chunks,
      readyMs,
      matched: null,
      entry,
    };
  });
  const result: ResolveDetails = {
    environment: found.env.id,
    match: found.match,
    merged: found.merged,
    readyMs: Math.round(found.readyMs * 10) / 10,
    sandbox: null,
    run: null,
    dir: found.env.paths.dir,
    matched: found.matched,
    dynamic: [],
    command: null,
  };
  if (!options.run) return result;
  const command =
    options.command !== undefined && options.command.length > 0
      ? options.command
      : commandFor(found.entry, []);
  result.command = command;
  const { runInEnvironment } = await import('./run-in-env.js');
  const ran = await runInEnvironment({
    root,
    store: options.store,
    envDir: found.env.paths.dir,
    command,
    prefer: options.prefer,
    limits: found.env.limits,
    capture: options.capture,
  });
  if (options.capture) {
    result.stdout = ran.stdout;
    result.stderr = ran.stderr;
  }
  result.sandbox = ran.sandbox;
  result.sandboxReason = ran.sandboxReason;
  result.run = { exitCode: ran.exitCode, wallMs: ran.wallMs, maxRssKb: ran.maxRssKb };
  result.dynamic = ran.dynamic;
  if (ran.dynamic.length > 0) {
    // Recorded with the environment, so that `ccx env show` tells what its slice lacked.
    const store = await openStore(resolveStorePath(root, options.store), {
      create: false,
      wait: options.wait ?? false,
    });
    try {
      const env = ((await store.listEnvironments()) as EnvironmentRecord[]).find(
        (e) => e.id === found.env.id,
      );
      if (env !== undefined) {
        env.loadedAtRunTime = [...new Set([...(env.loadedAtRunTime ?? []), ...ran.dynamic])].sort();
        await store.putEnvironment(env);
      }
    } finally {
      await store.close();
    }
  }
  return result;
}

/**
 * A new version of `base`'s profile holding `needed` too: `base`'s files with one layer of new
 * and changed units on top. Its directory is ready (and `readyMs` taken) before its image,
 * Dockerfile context and Nix expression are written.
 */
async function extendEnvironment(
  ctx: Context,
  base: EnvironmentRecord,
  needed: string[],
  needs: { widened: string[]; dataDirs: string[] },
  submission: { entry: string; hash: string },
  t0: number,
): Promise<{ record: EnvironmentRecord; readyMs: number }> {
  const seeds = new Set([...base.chunks, ...needed]);
  const widened = [...new Set([...base.check.widened, ...needs.widened])].sort();
  const dataDirs = [...new Set([...(base.check.dataDirs ?? []), ...needs.dataDirs])].sort();
  const assembled = await assembleEnvironment({ ...ctx, seeds, wholeFiles: new Set(widened), dataDirs });
  const had = new Set(base.layers.flatMap((l) => (Array.isArray(l.units) ? l.units : [])));
  const top = assembled.units.filter((u) => !had.has(u.key));
  const all = await ctx.store.listEnvironments();
  const version =
    (all as EnvironmentRecord[])
      .filter((e) => e.profile === base.profile)
      .reduce((v, e) => Math.max(v, e.version), 0) + 1;
  const id = sha256Hex(Buffer.from(JSON.stringify([base.id, top.map((u) => u.key)]))).slice(0, 16);
  const envRoot = path.join(ctx.storePath, 'environments', id);
  const temp = `${envRoot}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  // The directory first: the base's files, then the new layer's over them.
  cpSync(base.paths.dir, path.join(temp, 'dir'), { recursive: true });
  writeTree(path.join(temp, 'dir'), top, true);
  rmSync(envRoot, { recursive: true, force: true });
  mkdirSync(path.dirname(envRoot), { recursive: true });
  renameSync(temp, envRoot);
  const readyMs = performance.now() - t0;

  const layerIndex = base.layers.length;
  cpSync(path.dirname(base.paths.dockerfile), path.join(envRoot, 'context'), { recursive: true });
  writeTree(path.join(envRoot, 'context', layerDirName(layerIndex)), top);
  const runtime = { ...base.runtime, ...(await detectRuntime(assembled.languages)) };
  writeFileSync(
    path.join(envRoot, 'context', 'Dockerfile'),
    renderDockerfile({
      id,
      layers: layerIndex + 1,
      runtime,
      env: {},
      cmd: base.submissions[0]?.command ?? undefined,
    }),
  );
  writeFileSync(
    path.join(envRoot, 'default.nix'),
    renderNix({ id, profile: base.profile, version, layers: layerIndex + 1, runtime }),
  );
  const written = await writeOciImage({
    dir: path.join(envRoot, 'oci'),
    base: base.paths.oci,
    layers: [
      {
        files: top.flatMap((u) => u.files).map((f) => ({ ...f, path: `app/${f.path}` })),
        comment: `ccx: merged for ${submission.entry}`,
      },
    ],
    config: {
      labels: {
        'dev.ccx.environment': id,
        'dev.ccx.profile': base.profile,
        'dev.ccx.snapshot': ctx.snapshot,
      },
    },
    refName: 'latest',
  });
  const newLayer = written.layers[written.layers.length - 1]!;
  const record: EnvironmentRecord = {
    ...base,
    id,
    version,
    chunks: assembled.plan.chunks,
    bytes: assembled.bytes,
    builtAt: new Date().toISOString(),
    hits: 0,
    paths: {
      dir: path.join(envRoot, 'dir'),
      oci: path.join(envRoot, 'oci'),
      dockerfile: path.join(envRoot, 'context', 'Dockerfile'),
      nix: path.join(envRoot, 'default.nix'),
    },
    snapshot: ctx.snapshot,
    submissions: [
      ...base.submissions,
      { entry: submission.entry, hash: submission.hash, command: null, weight: 0 },
    ],
    runtime,
    layers: [
      ...base.layers,
      { digest: newLayer.digest, size: newLayer.size, shared: 1, units: top.map((u) => u.key) },
    ],
    manifestDigest: written.manifestDigest,
    externals: assembled.externals,
    check: { ...base.check, widened, dataDirs, keptWhole: assembled.keptWhole.map((k) => k.path) },
  };
  await ctx.store.putEnvironment(record);
  return { record, readyMs };
}
