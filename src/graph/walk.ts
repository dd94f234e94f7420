/** Walks over a resolved chunk graph (`deps` lists of chunk ids), shared by the queries that need them. */

/** Chunk id -> the ids of the chunks that list it in their `deps` (the reverse graph). */
export function reverseDeps(
  chunks: Iterable<{ id: string; deps: readonly string[] }>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of chunks) {
    for (const d of c.deps) {
      const list = out.get(d);
      if (list === undefined) out.set(d, [c.id]);
      else list.push(c.id);
    }
  }
  return out;
}

/** Every id reachable from `starts` through `next`, the starts included (iterative, any depth). */
export function reachable(
  starts: Iterable<string>,
  next: (id: string) => Iterable<string> | undefined,
): Set<string> {
  const seen = new Set<string>(starts);
  const stack = [...seen];
  while (stack.length > 0) {
    for (const n of next(stack.pop()!) ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(n);
    }
  }
  return seen;
}
