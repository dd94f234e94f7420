/**
 * `ccx history ls | show | stats | export | import`: the execution records of a store, as JSON
 * Lines in the schema's format (shared/spec/execution-record.schema.json), so that records from
 * elsewhere (production traces) can be fed in.
 */
import { readFileSync } from 'node:fs';
import { queryStorePath, withStore } from '../chunking/queries.js';
import { NotFoundError, UsageError } from '../errors.js';
import { openStore } from '../store/store.js';
import { type ExecutionRecord, validateRecord } from './record.js';

/** Store directory (default `CCX_STORE`, else `./.ccx`) and whether to wait for it. */
export type HistoryOptions = import('../chunking/queries.js').StoreOptions;

/** Every record of the store, oldest first (by `startedAt`, then id). */
export async function listRecords(options: HistoryOptions = {}): Promise<ExecutionRecord[]> {
  const records = (await withStore(options, (store) => store.listRecords())) as ExecutionRecord[];
  return records.sort((a, b) => compare(a.startedAt, b.startedAt) || compare(a.id, b.id));
}

function compare(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One record by id or unique id prefix.
 * @throws NotFoundError when none matches; UsageError when several do.
 */
export async function showRecord(id: string, options: HistoryOptions = {}): Promise<ExecutionRecord> {
  const matches = (await listRecords(options)).filter((r) => r.id.startsWith(id));
  if (matches.length === 0) {
    throw new NotFoundError(`no execution record ${id}`, { hint: 'list them with `ccx history ls`' });
  }
  if (matches.length > 1 && !matches.some((r) => r.id === id)) {
    throw new UsageError(`${id} matches ${matches.length} records`, { hint: 'give more of the id' });
  }
  return matches.find((r) => r.id === id) ?? matches[0]!;
}

/** Counts over the history. */
export interface HistoryStats {
  records: number;
  /** Distinct submissions (by hash). */
  submissions: number;
  /** Distinct chunks used by any record. */
  chunks: number;
  /** Mean chunks per record. */
  meanChunks: number;
  /** Records with a non-zero exit code. */
  failed: number;
  /** First and last `startedAt`, or null without records. */
  from: string | null;
  to: string | null;
  /** The chunks used by most records, with how many. */
  topChunks: Array<{ id: string; records: number }>;
}

export async function historyStats(options: HistoryOptions = {}, top = 10): Promise<HistoryStats> {
  const records = await listRecords(options);
  const uses = new Map<string, number>();
  for (const r of records) for (const c of r.chunksUsed) uses.set(c, (uses.get(c) ?? 0) + 1);
  const total = records.reduce((n, r) => n + r.chunksUsed.length, 0);
  return {
    records: records.length,
    submissions: new Set(records.map((r) => r.submission.hash)).size,
    chunks: uses.size,
    meanChunks: records.length === 0 ? 0 : Math.round((total / records.length) * 10) / 10,
    failed: records.filter((r) => r.exitCode !== 0).length,
    from: records[0]?.startedAt ?? null,
    to: records.at(-1)?.startedAt ?? null,
    topChunks: [...uses]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, top)
      .map(([id, n]) => ({ id, records: n })),
  };
}

/**
 * The records as JSON Lines (one record per line, oldest first), those started at or after
 * `since` when given.
 * @throws UsageError when `since` is not a date-time.
 */
export async function exportRecords(options: HistoryOptions & { since?: string } = {}): Promise<string> {
  let since = Number.NEGATIVE_INFINITY;
  if (options.since !== undefined) {
    since = Date.parse(options.since);
    if (Number.isNaN(since)) {
      throw new UsageError(`--since ${JSON.stringify(options.since)} is not a date-time`, {
        hint: 'give an ISO 8601 date or date-time, e.g. 2026-11-21 or 2026-11-21T10:00:00Z',
      });
    }
  }
  return (await listRecords(options))
    .filter((r) => Date.parse(r.startedAt) >= since)
    .map((r) => `${JSON.stringify(r)}\n`)
    .join('');
}

/** What an import did. */
export interface ImportResult {
  /** Records stored now. */
  imported: number;
  /** Records the store already held, with the same content. */
  unchanged: number;
  /** Lines not imported: 1-based line number and why. */
  rejected: Array<{ line: number; reason: string }>;
}

/**
 * Imports a JSON Lines file of execution records: each line is checked (JSON, the schema, an id
 * not already stored with other content); the good ones are stored, the bad ones listed. Blank
 * lines are skipped.
 * @throws UsageError when the file cannot be read.
 */
export async function importRecords(file: string, options: HistoryOptions = {}): Promise<ImportResult> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read ${file}`, {
      hint: 'give a JSON Lines file of execution records',
      cause,
    });
  }
  const rejected: ImportResult['rejected'] = [];
  const good: Array<{ line: number; record: ExecutionRecord }> = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      rejected.push({ line: i + 1, reason: `not JSON (${(error as Error).message})` });
      continue;
    }
    const problem = await validateRecord(value);
    if (problem !== undefined) {
      rejected.push({ line: i + 1, reason: problem });
      continue;
    }
    const record = value as ExecutionRecord;
    const earlier = seen.get(record.id);
    if (earlier !== undefined) {
      rejected.push({ line: i + 1, reason: `id ${record.id} already on line ${earlier}` });
      continue;
    }
    seen.set(record.id, i + 1);
    good.push({ line: i + 1, record });
  }
  const store = await openStore(queryStorePath(options.store), {
    create: true,
    wait: options.wait ?? false,
  });
  let imported = 0;
  let unchanged = 0;
  try {
    const before = new Set(((await store.listRecords()) as ExecutionRecord[]).map((r) => r.id));
    const conflicts = new Set(await store.putRecords(good.map((g) => g.record)));
    for (const g of good) {
      if (conflicts.has(g.record.id)) {
        rejected.push({ line: g.line, reason: `id ${g.record.id} is in the store with other content` });
      } else if (before.has(g.record.id)) unchanged++;
      else imported++;
    }
  } finally {
    await store.close();
  }
  rejected.sort((a, b) => a.line - b.line);
  return { imported, unchanged, rejected };
}
