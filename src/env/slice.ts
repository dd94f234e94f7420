/**
 * Chunk-level slices: what of a repository an environment holds. An environment is seeded with
 * chunk ids (a profile's predicted and static chunks); its content is their dependency closure,
 * plus, for every chunk kept, the module chunk of its file (the file's top-level code always
 * runs when the file loads) and the chunks it is nested in (a method needs its class's text),
 * closed again. Each file is then re-assembled from its bytes with only the kept chunks' text,
 * the way esbuild's tree shaking drops unused top-level statements, at chunk granularity.
 *
 * A dropped chunk's text becomes as many newlines as it spanned, so that every kept line keeps
 * its line number (stack traces and coverage read the same as in the repository); in Python a
 * `pass` stands in its place, so that a class or block left empty stays valid. A sliced file that
 * no longer parses is kept whole (the caller learns which).
 */
import type { FileAnalysis, Language } from '../chunking/types.js';
import { reachable } from '../graph/walk.js';
import type { Manifest, ManifestChunk } from '../manifest.js';

/** What of one file an environment holds. */
export interface FilePlan {
  path: string;
  /** True when the file is held whole (a parse error, or widened after a failed check). */
  whole: boolean;
  /** localIds of the chunks kept (`''` is the module chunk); every chunk of the file when whole. */
  keep: string[];
}

/** The content of an environment: chunk ids closed as above, and the plan of each file. */
export interface SlicePlan {
  /** Sorted chunk ids. */
  chunks: string[];
  /** By path, sorted. */
  files: FilePlan[];
}

function localIdOf(c: Pick<ManifestChunk, 'id' | 'file'>): string {
  return c.id === c.file ? '' : c.id.slice(c.file.length + 1);
}

/**
 * Plans the slice of `manifest` that holds `seeds`.
 * @param seeds chunk ids; ids the manifest lacks are ignored
 * @param options.wholeFiles paths to hold whole (widened ones); parse-error files are always whole
 */
export function planSlice(
  manifest: Manifest,
  seeds: Iterable<string>,
  options: { wholeFiles?: ReadonlySet<string> } = {},
): SlicePlan {
  const byId = new Map(manifest.chunks.map((c) => [c.id, c]));
  const byFile = new Map<string, ManifestChunk[]>();
  for (const c of manifest.chunks) {
    const list = byFile.get(c.file);
    if (list === undefined) byFile.set(c.file, [c]);
    else list.push(c);
  }
  const whole = new Set(options.wholeFiles ?? []);
  for (const f of manifest.files) if (f.status === 'parse-error') whole.add(f.path);
  // The innermost chunk strictly containing each chunk (the module chunk contains all, so skip it).
  const parent = new Map<string, string>();
  for (const [file, chunks] of byFile) {
    const inner = chunks
      .filter((c) => c.id !== file)
      .sort((a, b) => a.startByte - b.startByte || b.endByte - a.endByte);
    const stack: ManifestChunk[] = [];
    for (const c of inner) {
      while (stack.length > 0 && stack[stack.length - 1]!.endByte <= c.startByte) stack.pop();
      const top = stack[stack.length - 1];
      if (top !== undefined && top.endByte >= c.endByte) parent.set(c.id, top.id);
      stack.push(c);
    }
  }
  const next = (id: string): string[] => {
    const c = byId.get(id);
    if (c === undefined) return [];
    const out = [...c.deps, c.file];
    const p = parent.get(id);
    if (p !== undefined) out.push(p);
    // A file held whole brings every chunk of it, and their dependencies.
    if (whole.has(c.file)) for (const other of byFile.get(c.file) ?? []) out.push(other.id);
    return out;
  };
  const kept = reachable(
    [...seeds].filter((id) => byId.has(id)),
    next,
  );
  const files = new Map<string, string[]>();
  for (const id of kept) {
    const c = byId.get(id)!;
    const list = files.get(c.file);
    if (list === undefined) files.set(c.file, [localIdOf(c)]);
    else list.push(localIdOf(c));
  }
  return {
    chunks: [...kept].sort(),
    files: [...files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, keep]) => ({
        path,
        whole: whole.has(path) || keep.length === (byFile.get(path)?.length ?? 0),
        keep: keep.sort(),
      })),
  };
}

/**
 * The bytes of a file with only the chunks in `keep` (by localId; the module chunk is always
 * kept), dropped chunks replaced as the module comment says.
 * @param bytes the file's bytes, which `analysis` describes
 */
export function sliceSource(
  bytes: Buffer,
  analysis: Pick<FileAnalysis, 'chunks'>,
  keep: ReadonlySet<string>,
  language: Language,
): Buffer {
  // The outermost dropped chunks: a chunk nested in a dropped one goes with it.
  const dropped = analysis.chunks
    .filter((c) => c.localId !== '' && !keep.has(c.localId))
    .sort((a, b) => a.startByte - b.startByte || b.endByte - a.endByte);
  const parts: Buffer[] = [];
  let at = 0;
  for (const c of dropped) {
    if (c.startByte < at) continue;
    parts.push(bytes.subarray(at, c.startByte));
    let newlines = 0;
    for (let i = c.startByte; i < c.endByte; i++) if (bytes[i] === 0x0a) newlines++;
    parts.push(Buffer.from(`${language === 'python' ? 'pass' : ''}${'\n'.repeat(newlines)}`, 'utf8'));
    at = c.endByte;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}
