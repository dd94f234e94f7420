/** Builders for hand-written analyses, so graph tests read like the code they stand for. */
import { createHash } from 'node:crypto';
import type {
  ChunkKind,
  ChunkRecord,
  ExportBinding,
  FileAnalysis,
  ImportBinding,
  Language,
  NameRef,
} from '../../src/chunking/types.js';
import type { GraphFile, RepoContext } from '../../src/graph/resolve.js';

export function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `'ns.f'` -> `{ name: 'ns', members: ['f'] }`. */
export function ref(text: string): NameRef {
  const [name, ...members] = text.split('.');
  return { name: name!, members };
}

export interface ChunkSpec {
  /** localId; `Class.method` for methods. */
  id: string;
  kind?: ChunkKind;
  /** `'name'` or `'name.member.member'`. */
  refs?: string[];
  selfRefs?: string[];
  owner?: string;
  hash?: string;
}

export interface FileSpec {
  language?: Language;
  chunks?: ChunkSpec[];
  /** Refs of the module chunk. */
  moduleRefs?: string[];
  /** Defaults to every chunk without a dot in its localId, by that name. */
  topLevel?: Record<string, string>;
  imports?: ImportBinding[];
  exports?: ExportBinding[];
  goPackage?: string;
}

function chunk(spec: ChunkSpec): ChunkRecord {
  const record: ChunkRecord = {
    localId: spec.id,
    name: spec.id.split('.').pop()!,
    kind: spec.kind ?? (spec.id === '' ? 'module' : spec.owner !== undefined ? 'method' : 'function'),
    startByte: 0,
    endByte: 0,
    startLine: 1,
    endLine: 1,
    size: 0,
    hash: spec.hash ?? sha(`body of ${spec.id}`),
    interfaceHash: sha(`interface of ${spec.id}`),
    refs: (spec.refs ?? []).map(ref),
    selfRefs: spec.selfRefs ?? [],
  };
  if (spec.owner !== undefined) record.owner = spec.owner;
  return record;
}

/** A FileAnalysis with a module chunk first and the chunks given. */
export function analysis(spec: FileSpec = {}): FileAnalysis {
  const chunks = [
    chunk({ id: '', kind: 'module', refs: spec.moduleRefs ?? [] }),
    ...(spec.chunks ?? []).map(chunk),
  ];
  const topLevel: Record<string, string> = {};
  if (spec.topLevel !== undefined) Object.assign(topLevel, spec.topLevel);
  else for (const c of spec.chunks ?? []) if (!c.id.includes('.')) topLevel[c.id] = c.id;
  const result: FileAnalysis = {
    language: spec.language ?? 'typescript',
    status: 'ok',
    chunks,
    segments: [],
    topLevel,
    imports: spec.imports ?? [],
    exports: spec.exports ?? [],
  };
  if (spec.goPackage !== undefined) result.goPackage = spec.goPackage;
  return result;
}

/** `import { imported as local } from specifier` (file-level unless `chunk` is given). */
export function imp(local: string, specifier: string, imported: string, chunk?: string): ImportBinding {
  return chunk === undefined ? { local, specifier, imported } : { local, specifier, imported, chunk };
}

/** `export { local as exported }`. */
export function exportLocal(exported: string, local = exported): ExportBinding {
  return { exported, local };
}

/** `export { imported as exported } from specifier`; `export * from` is `reexport('*', s, '*')`. */
export function reexport(exported: string, specifier: string, imported = exported): ExportBinding {
  return { exported, specifier, imported };
}

/**
 * Files and a context reading configs from `configs` (no disk), `root` unused unless a test
 * has tsconfig files on disk.
 */
export function repo(
  files: Record<string, FileAnalysis>,
  configs: Record<string, string> = {},
  root = '/nonexistent-ccx-graph-root',
  readFile?: (rel: string) => string | undefined,
): { files: GraphFile[]; context: RepoContext } {
  return {
    files: Object.entries(files).map(([path, a]) => ({ path, analysis: a })),
    context: {
      root,
      readFile: readFile ?? ((rel) => configs[rel]),
      paths: [...Object.keys(files), ...Object.keys(configs)],
    },
  };
}
