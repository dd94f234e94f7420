#!/usr/bin/env node
// Counts the dependency edges of a tree by names (ccx chunk) and those the TypeScript checker
// adds (ccx affected --precise), with the checker's time and this process's peak RSS. Run as its
// own process by scripts/bench-change.mjs, so that the memory figure is the checker's.
//
//   node scripts/precise-edges.mjs DIR   ->  one line of JSON
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findPreciseEdges } from '../dist/change/precise.js';
import { chunk } from '../dist/chunking/chunk.js';
import { manifest } from '../dist/chunking/queries.js';

const dir = path.resolve(process.argv[2]);
const store = mkdtempSync(path.join(tmpdir(), 'ccx-precise-'));
await chunk({ root: dir, store, manifest: false });
const m = await manifest({ store });
const rssBefore = process.resourceUsage().maxRSS;
const t0 = performance.now();
const result = await findPreciseEdges(dir, m);
const ms = performance.now() - t0;
const ts = new Set(
  m.files.filter((f) => f.language === 'typescript' || f.language === 'tsx').map((f) => f.path),
);
const nameEdges = m.chunks.filter((c) => ts.has(c.file)).reduce((n, c) => n + c.deps.length, 0);
process.stdout.write(
  `${JSON.stringify({
    files: result.files,
    projects: result.projects,
    nameEdges,
    checkerEdges: result.edges.length,
    added: result.added,
    ms: Math.round(ms),
    rssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeMiB: Math.round(rssBefore / 1024),
  })}\n`,
);
rmSync(store, { recursive: true, force: true });
