/**
 * Execution environments: `ccx env prewarm`, `ccx env ls | show | gc`. An environment is built
 * for a profile (a set of submissions seen in the history): its chunks are the submissions'
 * static chunks and what the trained model predicts for them (or, without a model, what their
 * runs used), sliced from the root's latest snapshot (slice.ts, assemble.ts). It is written, under
 * the store's `environments/<id>/`, as
 *
 * - `dir/`: the files, ready to run in (what `ccx resolve --run` uses);
 * - `oci/`: an OCI image layout whose layers group files by co-usage (layers.ts, oci.ts);
 * - `context/`: a Dockerfile and its build context, one COPY per layer in the same order;
 * - `default.nix`: a Nix expression building the same tree (recipes.ts).
 *
 * Correctness: each submission the profile was built for is run in the full root and in `dir/`
 * (same command, a plain child process with a time limit); a slice whose runs differ in exit
 * status or output (paths of the two trees made equal) is widened: the files the differing output
 * names go whole, else every sliced file, and it is checked again. The record says what was
 * widened and whether the check passed in the end.
 *
 * Identity: the id is a digest of the content (files, runtime, layers); a profile rebuilt after
 * the code changed gets a new id and the next version number.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadAnalyses, type SnapshotContent, withHeadSnapshot } from '../chunking/snapshot.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { ExecutionRecord } from '../history/record.js';
import type { Manifest } from '../manifest.js';
import { featureTokens } from '../predict/features.js';
import { type MethodName, restoreModel } from '../predict/model.js';
import { StaticSets } from '../predict/predict.js';
import { resolveStorePath } from '../store/location.js';
import { type ChunkStore, openStore } from '../store/store.js';
import { type AssembledEnvironment, assembleEnvironment, type EnvUnit } from './assemble.js';
import { type LayerPlan, planLayers } from './layers.js';
import { MAX_LAYERS, writeOciImage } from './oci.js';
import { layerDirName, type Runtime, renderDockerfile, renderNix } from './recipes.js';

/** Where an environment's outputs are, absolute paths. */
export interface EnvironmentPaths {
  dir: string;
  oci: string;
  dockerfile: string;
  nix: string;
}

/** An environment as the store keeps it (key `v:<id>`). */
export interface EnvironmentRecord {
  id: string;
  /** Digest of the sorted submission hashes the profile was built for (16 hex digits). */
  profile: string;
  /** 1 for a profile's first environment, then one more for each rebuild with other content. */
  version: number;
  /** Chunk ids held, sorted. */
  chunks: string[];
  /** Bytes of all files (sources, configuration, packages). */
  bytes: number;
  /** ISO 8601. */
  builtAt: string;
  /** Times `ccx resolve` matched it. */
  hits: number;
  paths: EnvironmentPaths;
  snapshot: string;
  /** The submissions (entries) and their commands, as recorded. */
  submissions: Array<{ entry: string; hash: string; command: string[] | null; weight: number }>;
  runtime: Runtime;
  /** From the history: p95 of the profile's runs, to set limits with. */
  limits: { wallMs: number; maxRssKb: number };
  /** Bottom first, the base image's left out: digest, size, how many environments share it, unit keys. */
  layers: Array<{ digest: string; size: number; shared: number; units: string[] }>;
  manifestDigest: string;
  externals: AssembledEnvironment['externals'];
  /** Files the module hook loaded from the store when a submission ran here (`ccx resolve --run`). */
  loadedAtRunTime?: string[];
  /** The correctness check: whether the runs matched, files widened to whole, slices kept whole. */
  check: {
    ran: number;
    ok: boolean;
    /** Files held whole because a run differed with their slice. */
    widened: string[];
    /** Directories whose unindexed files (fixtures, data) were added because a run needed them. */
    dataDirs: string[];
    keptWhole: string[];
    failures: string[];
  };
}

/**
 * What a submission needed beyond its slice for its run to match the root's, as a check found
 * (store key `vh:<entry>`): files held whole and directories held with every file.
 */
export interface EnvironmentHint {
  entry: string;
  widened: string[];
  dataDirs: string[];
  /** Whether the check passed in the end. */
  ok: boolean;
  snapshot: string;
}

/** What `ccx env ls --json` lists and `ccx env show --json` prints (with `chunks`). */
export interface EnvironmentSummary {
  id: string;
  profile: string;
  version: number;
  chunks?: string[];
  bytes: number;
  builtAt: string;
  hits: number;
  paths: EnvironmentPaths;
}

export interface EnvOptions {
  root?: string;
  store?: string;
  wait?: boolean | number;
}

function sha256(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

export function percentile95(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

export async function detectRuntime(languages: string[]): Promise<Runtime> {
  const runtime: Runtime = {};
  if (languages.some((l) => l === 'javascript' || l === 'typescript' || l === 'tsx'))
    runtime.node = process.version;
  if (languages.includes('python')) {
    const { execa } = await import('execa');
    const r = await execa('python3', ['--version'], { reject: false });
    const m = /Python (\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`);
    if (m !== null) runtime.python = m[1]!;
  }
  return runtime;
}

/** A profile: submissions built for together, with their seeds. */
export interface Profile {
  id: string;
  submissions: EnvironmentRecord['submissions'];
  seeds: Set<string>;
  records: ExecutionRecord[];
}

export interface Context {
  store: ChunkStore;
  root: string;
  storePath: string;
  snapshot: string;
  content: SnapshotContent;
  manifest: Manifest;
  sets: StaticSets;
}

export async function withContext<T>(options: EnvOptions, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return withHeadSnapshot(options, async (head) =>
    fn({ ...head, snapshot: head.snapshot.id, sets: new StaticSets(head.manifest) }),
  );
}

/**
 * The chunks each distinct submission of the history needs: its static closure and what the
 * newest trained model predicts for it, or, without a model, the chunks its runs used.
 */
async function candidateProfiles(ctx: Context, records: ExecutionRecord[]): Promise<Profile[]> {
  const bySubmission = new Map<string, ExecutionRecord[]>();
  for (const r of records) {
    const list = bySubmission.get(r.submission.hash);
    if (list === undefined) bySubmission.set(r.submission.hash, [r]);
    else list.push(r);
  }
  const models = (await ctx.store.listModels()) as Array<{ id: string; method: MethodName }>;
  const newest = models[models.length - 1];
  const model =
    newest === undefined ? undefined : restoreModel(newest.method, await ctx.store.getModelState(newest.id));
  const byPath = new Map(ctx.content.files.map((f) => [f.path, f]));
  const out: Profile[] = [];
  for (const [hash, runs] of bySubmission) {
    const entry = runs[0]!.submission.entry;
    const files = ctx.sets.has(entry) ? [entry] : [];
    const { staticSet, ownChunks } = ctx.sets.of(files);
    const seeds = new Set(staticSet);
    const predicted =
      model === undefined
        ? undefined
        : model.predict({
            staticSet,
            ownChunks,
            tokens:
              files.length === 0
                ? undefined
                : featureTokens(
                    (
                      await loadAnalyses(
                        ctx.store,
                        ctx.content.analyzerVersion,
                        files.map((f) => byPath.get(f)!),
                      )
                    ).values(),
                  ),
          });
    if (predicted !== undefined && !predicted.coldStart) for (const p of predicted.predicted) seeds.add(p.id);
    else for (const r of runs) for (const id of r.chunksUsed) seeds.add(id);
    out.push({
      id: sha256(hash).slice(0, 16),
      submissions: [{ entry, hash, command: runs[0]!.submission.command ?? null, weight: runs.length }],
      seeds,
      records: runs,
    });
  }
  return out.sort((a, b) => b.submissions[0]!.weight - a.submissions[0]!.weight || (a.id < b.id ? -1 : 1));
}

/** Chunk bytes of a seed set's closure, as planned: the estimate greedy selection weighs. */
function estimateBytes(ctx: Context, seeds: Iterable<string>): { bytes: number; chunks: Set<string> } {
  const chunks = new Set(ctx.sets.of([]).staticSet);
  const closure = [...seeds];
  // Closure over deps, as the slice plan takes it.
  const deps = new Map(ctx.manifest.chunks.map((c) => [c.id, c]));
  const stack = [...closure];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (chunks.has(id)) continue;
    const c = deps.get(id);
    if (c === undefined) continue;
    chunks.add(id);
    stack.push(...c.deps, c.file);
  }
  return { bytes: ctx.sets.bytes(chunks), chunks };
}

/**
 * Budgeted maximum coverage, greedily: each step takes the candidate environment whose newly
 * covered requests (history frequency of the submissions whose static chunks it holds) per byte
 * is highest, while the budget and `top` allow (Khuller, Moss and Naor's greedy for budgeted
 * coverage).
 */
function chooseProfiles(
  ctx: Context,
  candidates: Profile[],
  top: number,
  budgetBytes: number,
): { chosen: Profile[]; gains: Map<Profile, number>; total: number } {
  const sized = candidates.map((p) => ({ p, ...estimateBytes(ctx, p.seeds) }));
  const needs = candidates.map((p) => ({
    hash: p.submissions[0]!.hash,
    weight: p.submissions[0]!.weight,
    needed: ctx.sets.of(ctx.sets.has(p.submissions[0]!.entry) ? [p.submissions[0]!.entry] : []).staticSet,
  }));
  const total = needs.reduce((n, x) => n + x.weight, 0);
  const covered = new Set<string>();
  const chosen: Profile[] = [];
  let spent = 0;
  const gains = new Map<Profile, number>();
  while (chosen.length < top) {
    let best: { i: number; gain: number; ratio: number } | undefined;
    sized.forEach((c, i) => {
      if (chosen.includes(c.p) || spent + c.bytes > budgetBytes) return;
      let gain = 0;
      for (const n of needs)
        if (!covered.has(n.hash) && n.needed.every((id) => c.chunks.has(id))) gain += n.weight;
      const ratio = gain / Math.max(1, c.bytes);
      if (gain > 0 && (best === undefined || ratio > best.ratio)) best = { i, gain, ratio };
    });
    if (best === undefined) break;
    const c = sized[best.i]!;
    chosen.push(c.p);
    spent += c.bytes;
    gains.set(c.p, best.gain);
    for (const n of needs) if (n.needed.every((id) => c.chunks.has(id))) covered.add(n.hash);
  }
  return { chosen, gains, total };
}

/** Replaces both trees' paths in a run's output, so that outputs of the root and the environment compare. */
function normalizeOutput(text: string, dir: string): string {
  return text.split(dir).join('<ROOT>');
}

async function runOnce(
  command: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ exitCode: number; out: string }> {
  const { execa } = await import('execa');
  const r = await execa(command[0]!, command.slice(1), {
    cwd,
    reject: false,
    timeout: timeoutMs,
    all: true,
    env: { CCX_ENV_CHECK: '1' },
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? (r.timedOut ? 124 : 1), out: normalizeOutput(String(r.all ?? ''), cwd) };
}

/** Writes units' files under `dir` (emptied first unless `keep`). */
export function writeTree(dir: string, units: readonly EnvUnit[], keep = false): void {
  if (!keep) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const u of units)
    for (const f of u.files) {
      const target = path.join(dir, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, f.data, { mode: f.mode });
    }
}

/**
 * A tree to check a slice in: its files written, its npm packages' files hard-linked to the
 * root's where the file system allows (a check only reads them; paths are those of a copy),
 * which saves copying them for every candidate.
 */
function writeCheckTree(root: string, dir: string, units: readonly EnvUnit[]): void {
  writeTree(
    dir,
    units.filter((u) => u.kind !== 'package'),
  );
  for (const u of units) {
    if (u.kind !== 'package') continue;
    const rel = u.key.slice(u.key.lastIndexOf(':') + 1);
    for (const f of u.files) {
      const target = path.join(dir, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      try {
        linkSync(path.join(root, rel, path.relative(rel, f.path)), target);
      } catch {
        writeFileSync(target, f.data, { mode: f.mode });
      }
    }
  }
}

/** Runs the profile's submissions in the root and in `dir`; the differing ones, with their output. */
async function checkRuns(
  root: string,
  dir: string,
  profile: Profile,
  limits: EnvironmentRecord['limits'],
): Promise<{ ran: number; failures: Array<{ entry: string; out: string }> }> {
  const failures: Array<{ entry: string; out: string }> = [];
  let ran = 0;
  const timeout = Math.max(20_000, limits.wallMs * 5);
  for (const s of profile.submissions) {
    if (s.command === null || s.command.length === 0) continue;
    ran++;
    const [inRoot, inEnv] = [await runOnce(s.command, root, timeout), await runOnce(s.command, dir, timeout)];
    if (inRoot.exitCode !== inEnv.exitCode || inRoot.out !== inEnv.out)
      failures.push({
        entry: s.entry,
        out: `exit ${inEnv.exitCode} (root: ${inRoot.exitCode})\n${inEnv.out}`,
      });
  }
  return { ran, failures };
}

/** Layers of an OCI image layout's (first) image; 0 without one or when unreadable (oci.ts reports that). */
function baseLayerCount(base: string | undefined): number {
  if (base === undefined) return 0;
  try {
    const index = JSON.parse(readFileSync(path.join(base, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const digest = index.manifests[0]!.digest.replace('sha256:', '');
    const manifest = JSON.parse(readFileSync(path.join(base, 'blobs', 'sha256', digest), 'utf8')) as {
      layers: unknown[];
    };
    return manifest.layers.length;
  } catch {
    return 0;
  }
}

export interface Built {
  profile: Profile;
  assembled: AssembledEnvironment;
  runtime: Runtime;
  limits: EnvironmentRecord['limits'];
  check: EnvironmentRecord['check'];
}

/** Assembles a profile's environment, checks it, and widens it until its runs match (or all is whole). */
export async function assembleChecked(
  ctx: Context,
  profile: Profile,
  scratch: string,
  check: boolean,
): Promise<Built> {
  const limits = {
    wallMs: Math.round(percentile95(profile.records.map((r) => r.resources.wallMs))),
    maxRssKb: percentile95(profile.records.map((r) => r.resources.maxRssKb)),
  };
  const whole = new Set<string>();
  const widened: string[] = [];
  const dataDirs: string[] = [];
  let assembled = await assembleEnvironment({ ...ctx, seeds: profile.seeds });
  const runtime = await detectRuntime(assembled.languages);
  let result = { ran: 0, failures: [] as Array<{ entry: string; out: string }> };
  // Widening, a step at a time: the sliced files the differing output names, then every sliced
  // file, then the unindexed files (fixtures, data) of the failing submissions' directories.
  for (let round = 0; check && round < 4; round++) {
    writeCheckTree(ctx.root, scratch, assembled.units);
    result = await checkRuns(ctx.root, scratch, profile, limits);
    if (result.failures.length === 0) break;
    const sliced = assembled.plan.files.filter((f) => !f.whole && !whole.has(f.path)).map((f) => f.path);
    const named = sliced.filter((p) => result.failures.some((f) => f.out.includes(p)));
    const widen = named.length > 0 && round === 0 ? named : sliced;
    if (widen.length > 0) {
      for (const p of widen) {
        whole.add(p);
        widened.push(p);
      }
    } else {
      const dirs = [...new Set(result.failures.map((f) => path.posix.dirname(f.entry)))].filter(
        (d) => !dataDirs.includes(d),
      );
      if (dirs.length === 0) break;
      dataDirs.push(...dirs);
    }
    assembled = await assembleEnvironment({ ...ctx, seeds: profile.seeds, wholeFiles: whole, dataDirs });
  }
  rmSync(scratch, { recursive: true, force: true });
  return {
    profile,
    assembled,
    runtime,
    limits,
    check: {
      ran: result.ran,
      ok: result.failures.length === 0,
      widened: widened.sort(),
      dataDirs,
      keptWhole: assembled.keptWhole.map((k) => k.path),
      failures: result.failures.map((f) => `${f.entry}: ${f.out.slice(0, 400)}`),
    },
  };
}

/** Writes the outputs of built environments, layered together, and stores their records. */
export async function writeEnvironments(
  ctx: Context,
  built: Built[],
  options: {
    base?: string;
    alongsideExisting?: boolean;
    /** Called once an environment's directory is written, before its image and recipes. */
    onDirReady?: (profileId: string) => void;
  },
): Promise<EnvironmentRecord[]> {
  const existing = (await ctx.store.listEnvironments()) as EnvironmentRecord[];
  const keyed = new Map(built.map((b) => [b.profile.id, b]));
  const unitSets = new Map(built.map((b) => [b.profile.id, b.assembled.units.map((u) => u.key)]));
  // Planned with the environments already built, a new one's layers that hold the same units
  // as theirs have the same digests.
  if (options.alongsideExisting)
    for (const e of existing)
      if (!unitSets.has(e.profile))
        unitSets.set(
          `existing:${e.id}`,
          e.layers.flatMap((l) => (Array.isArray(l.units) ? l.units : [])),
        );
  const plans = planLayers(unitSets, MAX_LAYERS - baseLayerCount(options.base));
  const out: EnvironmentRecord[] = [];
  for (const [profileId, layers] of plans) {
    const b = keyed.get(profileId);
    if (b === undefined) continue;
    const unitByKey = new Map(b.assembled.units.map((u) => [u.key, u]));
    const id = sha256(
      JSON.stringify([
        b.assembled.digest,
        b.runtime,
        layers.map((l: LayerPlan) => l.units),
        options.base ?? null,
      ]),
    ).slice(0, 16);
    const envRoot = path.join(ctx.storePath, 'environments', id);
    const paths: EnvironmentPaths = {
      dir: path.join(envRoot, 'dir'),
      oci: path.join(envRoot, 'oci'),
      dockerfile: path.join(envRoot, 'context', 'Dockerfile'),
      nix: path.join(envRoot, 'default.nix'),
    };
    // Profiles whose environments came out identical share one: the submissions are merged.
    const same = out.find((e) => e.id === id);
    if (same !== undefined) {
      same.submissions.push(...b.profile.submissions);
      await ctx.store.putEnvironment(same);
      continue;
    }
    const before = existing.find((e) => e.id === id);
    const previous = existing.filter((e) => e.profile === profileId);
    const version = before?.version ?? previous.reduce((v, e) => Math.max(v, e.version), 0) + 1;
    // Written under a temporary name, then renamed: a killed build leaves no half environment.
    const temp = `${envRoot}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    writeTree(path.join(temp, 'dir'), b.assembled.units);
    options.onDirReady?.(profileId);
    const layerFiles = layers.map((l) =>
      l.units.flatMap((k) => unitByKey.get(k)!.files).map((f) => ({ ...f, path: `app/${f.path}` })),
    );
    for (const [i, l] of layers.entries()) {
      writeTree(
        path.join(temp, 'context', layerDirName(i)),
        l.units.map((k) => unitByKey.get(k)!),
      );
    }
    const commands = b.profile.submissions.map((s) => s.command).filter((c): c is string[] => c !== null);
    const written = await writeOciImage({
      dir: path.join(temp, 'oci'),
      layers: layerFiles.map((files, i) => ({
        files,
        comment: `ccx layer ${i}: ${layers[i]!.units.length} units`,
      })),
      config: {
        workingDir: '/app',
        cmd: commands[0],
        labels: { 'dev.ccx.environment': id, 'dev.ccx.profile': profileId, 'dev.ccx.snapshot': ctx.snapshot },
      },
      base: options.base,
      refName: 'latest',
    });
    writeFileSync(
      path.join(temp, 'context', 'Dockerfile'),
      renderDockerfile({ id, layers: layers.length, runtime: b.runtime, env: {}, cmd: commands[0] }),
    );
    writeFileSync(
      path.join(temp, 'default.nix'),
      renderNix({ id, profile: profileId, version, layers: layers.length, runtime: b.runtime }),
    );
    rmSync(envRoot, { recursive: true, force: true });
    mkdirSync(path.dirname(envRoot), { recursive: true });
    renameSync(temp, envRoot);
    const record: EnvironmentRecord = {
      id,
      profile: profileId,
      version,
      chunks: b.assembled.plan.chunks,
      bytes: b.assembled.bytes,
      builtAt: new Date().toISOString(),
      hits: before?.hits ?? 0,
      paths,
      snapshot: ctx.snapshot,
      submissions: b.profile.submissions,
      runtime: b.runtime,
      limits: b.limits,
      layers: written.layers.slice(written.layers.length - layers.length).map((l, i) => ({
        digest: l.digest,
        size: l.size,
        shared: layers[i]!.shared,
        units: layers[i]!.units,
      })),
      manifestDigest: written.manifestDigest,
      externals: b.assembled.externals,
      check: b.check,
    };
    await ctx.store.putEnvironment(record);
    out.push(record);
  }
  return out;
}

/** What `ccx env prewarm` returns. */
export interface PrewarmResult {
  environments: EnvironmentRecord[];
  /** Requests in the history (runs) the chosen environments hold every static chunk of. */
  coveredRequests: number;
  totalRequests: number;
  /** Bytes of all environments' files, and of the distinct layers among them. */
  bytes: number;
  layerBytes: number;
  budgetBytes: number;
}

/**
 * Chooses profiles from the history (and the newest model) that cover the most expected requests
 * within the budget, builds, checks and writes their environments.
 * @param options.top at most this many environments (default 5)
 * @param options.budgetMb at most this many MiB: the choice weighs code bytes, and environments
 *   whose assembled files (npm packages included) go past it are not written (default 256; the
 *   first chosen is always written)
 * @param options.base an OCI image layout whose layers go underneath
 * @param options.check run each submission in its environment and in the root (default true)
 * @throws NotFoundError without a snapshot; UsageError with an empty history
 */
export async function prewarm(
  options: EnvOptions & { top?: number; budgetMb?: number; base?: string; check?: boolean } = {},
): Promise<PrewarmResult> {
  return withContext(options, async (ctx) => {
    const records = (await ctx.store.listRecords()) as ExecutionRecord[];
    if (records.length === 0) {
      throw new UsageError('the history is empty: there is nothing to prewarm for', {
        hint: 'record runs with `ccx run -- COMMAND` (or `ccx history import`), then `ccx train`',
      });
    }
    if (options.base !== undefined && !existsSync(path.join(options.base, 'oci-layout'))) {
      throw new UsageError(`${options.base} is not an OCI image layout (no oci-layout file)`, {
        hint: 'give --base oci:PATH of a layout written by skopeo copy, umoci or ccx',
      });
    }
    const budgetBytes = (options.budgetMb ?? 256) * 1024 * 1024;
    const candidates = await candidateProfiles(ctx, records);
    const { chosen, gains, total } = chooseProfiles(ctx, candidates, options.top ?? 5, budgetBytes);
    const built: Built[] = [];
    const check = options.check ?? true;
    // Every candidate is checked, chosen or not: what a submission needs beyond its slice (files
    // whole, data directories) is kept as a hint, which `ccx resolve` applies when it assembles
    // or extends an environment for that submission (or one in the same directory) later.
    for (const p of check ? candidates : chosen) {
      const b = await assembleChecked(
        ctx,
        p,
        path.join(ctx.storePath, 'environments', `check-${p.id}-${process.pid}`),
        check,
      );
      if (check && b.check.ran > 0) {
        for (const s of p.submissions)
          await ctx.store.putEnvironmentHint({
            entry: s.entry,
            widened: b.check.widened,
            dataDirs: b.check.dataDirs,
            ok: b.check.ok,
            snapshot: ctx.snapshot,
          });
      }
      if (chosen.includes(p)) built.push(b);
    }
    // The choice weighed code bytes (an estimate); the budget holds for what was assembled,
    // npm packages included: environments past it, in the order chosen, are not written.
    let spent = 0;
    const affordable = built.filter((b) => {
      spent += b.assembled.bytes;
      return spent <= budgetBytes || b === built[0];
    });
    built.splice(0, built.length, ...affordable);
    const coverage = built.reduce((n, b) => n + (gains.get(b.profile) ?? 0), 0);
    const environments = await writeEnvironments(ctx, built, { base: options.base });
    const layerSizes = new Map<string, number>();
    for (const e of environments) for (const l of e.layers) layerSizes.set(l.digest, l.size);
    return {
      environments,
      coveredRequests: coverage,
      totalRequests: total,
      bytes: environments.reduce((n, e) => n + e.bytes, 0),
      layerBytes: [...layerSizes.values()].reduce((a, b) => a + b, 0),
      budgetBytes,
    };
  });
}

function summary(e: EnvironmentRecord, withChunks: boolean): EnvironmentSummary {
  return {
    id: e.id,
    profile: e.profile,
    version: e.version,
    ...(withChunks ? { chunks: e.chunks } : {}),
    bytes: e.bytes,
    builtAt: e.builtAt,
    hits: e.hits,
    paths: e.paths,
  };
}

async function withEnvStore<T>(
  options: EnvOptions,
  fn: (store: ChunkStore, storePath: string) => Promise<T>,
): Promise<T> {
  const storePath = resolveStorePath(path.resolve(options.root ?? '.'), options.store);
  const store = await openStore(storePath, { create: false, wait: options.wait ?? false });
  try {
    return await fn(store, storePath);
  } finally {
    await store.close();
  }
}

/** The environments of the store, oldest first. */
export async function listEnvironments(options: EnvOptions = {}): Promise<EnvironmentRecord[]> {
  return withEnvStore(options, async (store) =>
    ((await store.listEnvironments()) as EnvironmentRecord[]).sort(
      (a, b) => a.builtAt.localeCompare(b.builtAt) || (a.id < b.id ? -1 : 1),
    ),
  );
}

/** `ccx env ls --json` entries. */
export function summarize(e: EnvironmentRecord, withChunks = false): EnvironmentSummary {
  return summary(e, withChunks);
}

/**
 * One environment by id or unique id prefix.
 * @throws NotFoundError when none matches; UsageError when several do.
 */
export async function showEnvironment(id: string, options: EnvOptions = {}): Promise<EnvironmentRecord> {
  const all = await listEnvironments(options);
  const found = all.filter((e) => e.id.startsWith(id));
  if (found.length === 0)
    throw new NotFoundError(`no environment ${id}`, { hint: 'list them with `ccx env ls`' });
  if (found.length > 1)
    throw new UsageError(`${id} names ${found.length} environments`, { hint: 'give more of the id' });
  return found[0]!;
}

/**
 * Deletes all but the newest `keep` versions of each profile (default 1), records and files.
 * @returns the ids deleted
 */
export async function gcEnvironments(options: EnvOptions & { keep?: number } = {}): Promise<string[]> {
  const keep = options.keep ?? 1;
  return withEnvStore(options, async (store, storePath) => {
    const all = (await store.listEnvironments()) as EnvironmentRecord[];
    const byProfile = new Map<string, EnvironmentRecord[]>();
    for (const e of all) byProfile.set(e.profile, [...(byProfile.get(e.profile) ?? []), e]);
    const doomed: string[] = [];
    for (const list of byProfile.values()) {
      list.sort((a, b) => b.version - a.version);
      for (const e of list.slice(keep)) doomed.push(e.id);
    }
    // Records first: an environment without a record is garbage, never the other way round.
    await store.deleteEnvironments(doomed);
    for (const id of doomed)
      rmSync(path.join(storePath, 'environments', id), { recursive: true, force: true });
    return doomed.sort();
  });
}
