/**
 * `closureHash` of shared/spec/semantic-hash.md: a Merkle hash over a chunk's own `hash`, the
 * closure hashes of the in-repo chunks it uses and the external packages it uses (with their
 * locked versions). Dependency cycles are hashed as one strongly connected component.
 */
import * as crypto from 'node:crypto';
import { HASH_VERSION } from '../manifest.js';

/** A chunk as the closure sees it. */
export interface ClosureInput {
  id: string;
  /** The chunk's own `hash` (lowercase hex SHA-256). */
  hash: string;
  /** Ids of in-repo chunks it uses directly; ids not among the chunks given are ignored. */
  deps: string[];
  /** Packages it uses from outside the repository. */
  externalDeps: string[];
}

/**
 * SHA-256 (lowercase hex) of a list of fields, each written as its length in UTF-16 code units,
 * a colon, and its text: no two different field lists give the same input.
 */
function digest(fields: readonly string[]): string {
  let text = '';
  for (const field of fields) text += `${field.length}:${field}`;
  return sha256Hex(text);
}

/** One-shot `crypto.hash` (Node 20.12+, about twice as fast for small inputs) where it exists. */
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Computes every chunk's `closureHash`, keyed by id.
 *
 * A chunk outside any cycle: H(version, `node`, hash, the sorted closure hashes of its deps,
 * its sorted external packages each with `@version` where `lockedVersions` pins one). A cycle
 * (strongly connected component of two or more chunks; deps never hold the chunk itself):
 * members ordered by `hash`, then id; the component hash covers each member's hash, its edges
 * inside the component as member indices, the sorted closure hashes of its deps outside and its
 * sorted external packages; each member's closure is H(version, `member`, component hash, index).
 * The result does not depend on the order of `chunks` or of their deps, nor on file paths
 * (except to order members of a cycle with equal hashes). Components are found with an
 * iterative Tarjan, so dependency chains of any depth are fine.
 *
 * `known` gives the closure hashes of chunks outside `chunks` that some of them depend on (an
 * incremental run recomputes only the chunks whose closure can have changed); a dep found in
 * neither is ignored. Deps in `known` can never share a cycle with a chunk given, since the
 * caller recomputes every chunk that reaches a changed one.
 *
 * @throws Error when two chunks share an id.
 */
export function computeClosureHashes(
  chunks: ReadonlyArray<ClosureInput>,
  lockedVersions: ReadonlyMap<string, string>,
  known: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  // Nothing below depends on the order of `chunks`: components and the hashes over them are
  // the same whichever chunk a search starts from.
  const n = chunks.length;
  const indexById = new Map<string, number>();
  let edgeBound = 0;
  for (let i = 0; i < n; i++) {
    const chunk = chunks[i]!;
    if (indexById.has(chunk.id)) throw new Error(`computeClosureHashes: chunk id ${chunk.id} given twice`);
    indexById.set(chunk.id, i);
    edgeBound += chunk.deps.length;
  }
  // Adjacency in one array: the deps of chunk i are edges[start[i] .. start[i + 1]), sorted, unique.
  const start = new Int32Array(n + 1);
  const edges = new Int32Array(edgeBound);
  let edgeCount = 0;
  const externals: string[][] = new Array(n);
  const none: string[] = [];
  /** Closure hashes of deps outside `chunks`, per chunk (sparse). */
  const fixed: Array<string[] | undefined> = new Array(n);
  for (let i = 0; i < n; i++) {
    const chunk = chunks[i]!;
    start[i] = edgeCount;
    const from = edgeCount;
    for (const dep of chunk.deps) {
      const j = indexById.get(dep);
      if (j !== undefined) {
        if (j !== i) edges[edgeCount++] = j;
        continue;
      }
      const closureOfDep = known.get(dep);
      if (closureOfDep === undefined) continue;
      const list = fixed[i];
      if (list === undefined) fixed[i] = [closureOfDep];
      else list.push(closureOfDep);
    }
    if (edgeCount - from > 1) {
      const sorted = edges.subarray(from, edgeCount).sort();
      let unique = 1;
      for (let k = 1; k < sorted.length; k++)
        if (sorted[k] !== sorted[unique - 1]) sorted[unique++] = sorted[k]!;
      edgeCount = from + unique;
    }
    if (chunk.externalDeps.length === 0) {
      externals[i] = none;
    } else {
      const specs = new Set<string>();
      for (const name of chunk.externalDeps) {
        const version = lockedVersions.get(name);
        // Unambiguous: a package name holds `@` only as its first character (`@scope/pkg`).
        specs.add(version === undefined ? name : `${name}@${version}`);
      }
      externals[i] = [...specs].sort(compareStrings);
    }
  }
  start[n] = edgeCount;

  const closure: string[] = new Array(n);
  const position = new Int32Array(n).fill(-1);
  const hashComponent = (members: number[]): void => {
    if (members.length === 1) {
      const v = members[0]!;
      const depClosures: string[] = fixed[v] === undefined ? [] : [...fixed[v]];
      for (let e = start[v]!; e < start[v + 1]!; e++) depClosures.push(closure[edges[e]!]!);
      depClosures.sort(compareStrings);
      closure[v] = digest([
        HASH_VERSION,
        'node',
        chunks[v]!.hash,
        String(depClosures.length),
        ...depClosures,
        String(externals[v]!.length),
        ...externals[v]!,
      ]);
      return;
    }
    members.sort(
      (a, b) =>
        compareStrings(chunks[a]!.hash, chunks[b]!.hash) || compareStrings(chunks[a]!.id, chunks[b]!.id),
    );
    members.forEach((v, i) => {
      position[v] = i;
    });
    const fields: string[] = [HASH_VERSION, 'component', String(members.length)];
    for (const v of members) fields.push(chunks[v]!.hash);
    for (const v of members) {
      const inside: number[] = [];
      const outside: string[] = fixed[v] === undefined ? [] : [...fixed[v]];
      for (let e = start[v]!; e < start[v + 1]!; e++) {
        const w = edges[e]!;
        const p = position[w]!;
        if (p < 0) outside.push(closure[w]!);
        else inside.push(p);
      }
      inside.sort((a, b) => a - b);
      outside.sort(compareStrings);
      fields.push(String(inside.length));
      for (const p of inside) fields.push(String(p));
      fields.push(String(outside.length));
      for (const c of outside) fields.push(c);
      fields.push(String(externals[v]!.length));
      for (const x of externals[v]!) fields.push(x);
    }
    const componentHash = digest(fields);
    members.forEach((v, i) => {
      closure[v] = digest([HASH_VERSION, 'member', componentHash, String(i)]);
      position[v] = -1;
    });
  };

  // Iterative Tarjan: components come out dependencies first, so every dep outside a
  // component already has its closure hash when the component is hashed.
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const next = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const calls: number[] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    order[root] = low[root] = counter++;
    next[root] = start[root]!;
    stack.push(root);
    onStack[root] = 1;
    calls.push(root);
    while (calls.length > 0) {
      const v = calls[calls.length - 1]!;
      if (next[v]! < start[v + 1]!) {
        const w = edges[next[v]!++]!;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          next[w] = start[w]!;
          stack.push(w);
          onStack[w] = 1;
          calls.push(w);
        } else if (onStack[w] === 1 && order[w]! < low[v]!) {
          low[v] = order[w]!;
        }
        continue;
      }
      calls.pop();
      if (calls.length > 0) {
        const parent = calls[calls.length - 1]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
      if (low[v] === order[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          members.push(w);
        } while (w !== v);
        hashComponent(members);
      }
    }
  }

  const result = new Map<string, string>();
  for (let i = 0; i < n; i++) result.set(chunks[i]!.id, closure[i]!);
  return result;
}
