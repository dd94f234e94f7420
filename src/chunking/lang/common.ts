/** Small pieces every language analyzer needs. */
import type { RawChunk } from '../analyze.js';
import type { CompactTree } from '../compact-tree.js';
import type { NameRef } from '../types.js';

/**
 * Where a chunk starts once the comments directly above it are attached: previous siblings that
 * are comments, separated from the chunk and from each other by whitespace holding at most one
 * line break (a blank line detaches them).
 */
export function leadingCommentStart(ct: CompactTree, node: number, comments: ReadonlySet<string>): number {
  let start = ct.start[node]!;
  const parent = ct.parent[node]!;
  if (parent === -1) return start;
  const siblings: number[] = [];
  for (let c = ct.firstChild[parent]!; c !== -1 && c !== node; c = ct.nextSibling[c]!) siblings.push(c);
  for (let i = siblings.length - 1; i >= 0; i--) {
    const s = siblings[i]!;
    if (!comments.has(ct.typeName(s))) break;
    const gap = ct.source.slice(ct.end[s]!, start);
    if (!/^[ \t\r]*\n?[ \t\r]*$/.test(gap)) break;
    start = ct.start[s]!;
  }
  return start;
}

/** Collects chunks, making localIds unique in source order (`f`, `f~2`, `f~3`). */
export class ChunkCollector {
  readonly chunks: RawChunk[] = [];
  private readonly seen = new Map<string, number>();

  add(chunk: RawChunk): void {
    const n = (this.seen.get(chunk.localId) ?? 0) + 1;
    this.seen.set(chunk.localId, n);
    if (n > 1) chunk.localId = `${chunk.localId}~${n}`;
    this.chunks.push(chunk);
  }
}

/** Deduplicated {@link NameRef}s in first-seen order. */
export class RefCollector {
  private readonly map = new Map<string, NameRef>();

  add(name: string, members: string[]): void {
    const key = members.length === 0 ? name : `${name}\u0000${members.join('\u0000')}`;
    if (!this.map.has(key)) this.map.set(key, { name, members });
  }

  list(): NameRef[] {
    return [...this.map.values()];
  }
}
