// Replayed histories for the benchmarks: a skewed (Zipf-like) order over real execution records,
// as production traces are skewed (Serverless in the Wild, ATC'20), one run a minute.

/** A seeded sampler of ranks 0..n-1 with P(k) proportional to 1 / (k + 1)^s. */
export function zipf(n, s, seed) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const weights = Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);
  const sum = weights.reduce((a, b) => a + b, 0);
  return () => {
    let x = random() * sum;
    for (let k = 0; k < n; k++) {
      x -= weights[k];
      if (x <= 0) return k;
    }
    return n - 1;
  };
}

/**
 * `count` records drawn from `real` in a Zipf (s = 1.1) order, ranked by a fixed shuffle (so that
 * popularity is not alphabetical).
 */
export function zipfSequence(real, count, seed) {
  const order = [...real.keys()].sort((a, b) => ((a * 7919) % real.length) - ((b * 7919) % real.length));
  const sample = zipf(real.length, 1.1, seed);
  return Array.from({ length: count }, () => real[order[sample()]]);
}

/** The records as JSON Lines for `ccx history import`: new ids, one a minute from 2026-01-01. */
export function replayLines(records, extra = () => ({})) {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  return records.map((base, i) =>
    JSON.stringify({
      ...base,
      id: `replay-${String(i).padStart(5, '0')}`,
      startedAt: new Date(t0 + i * 60_000).toISOString(),
      ...extra(base),
    }),
  );
}
