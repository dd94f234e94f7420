/** Small helpers for what commands print. */

/** Writes a value as JSON (2-space indent) on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** 12,345 (without toLocaleString, whose first call loads ICU data: ~15 ms). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1.2 s` or `340 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** First 12 hex digits of an id, as git abbreviates. */
export function shortId(id: string | null): string {
  return id === null ? 'none' : id.slice(0, 12);
}

/** Options every store-reading command takes, as commander hands them over. */
export interface CommonOptions {
  store?: string;
  wait?: number | true;
  json?: boolean;
  snapshot?: string;
}
