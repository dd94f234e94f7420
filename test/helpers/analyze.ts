/** Analyzing source text in tests, and finding chunks in the result. */
import { SourceAnalyzer } from '../../src/chunking/analyze.js';
import type { ChunkRecord, FileAnalysis, Language } from '../../src/chunking/types.js';

const analyzer = new SourceAnalyzer();

/** The analysis of `text` as a whole file of `language` (no byte order mark). */
export function analyzeText(text: string, language: Language): Promise<FileAnalysis> {
  return analyzer.analyze(text, language, 0, Buffer.byteLength(text));
}

/** The chunk with `localId`; throws, listing the ids there are, when there is none. */
export function findChunk(analysis: FileAnalysis, localId: string): ChunkRecord {
  const found = analysis.chunks.find((c) => c.localId === localId);
  if (found === undefined)
    throw new Error(`no chunk ${localId} in: ${analysis.chunks.map((c) => c.localId)}`);
  return found;
}
