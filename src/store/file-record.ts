/**
 * How a file's bytes are kept in the store: split into the own text of each of its chunks (one
 * content-addressed blob per distinct text) plus a file record that lists, in file order, which
 * slice of which blob each stretch of the file comes from. Format: docs/formats.md, "Store layout".
 */
import { createHash } from 'node:crypto';
import type { FileAnalysis } from '../chunking/types.js';

/** One stretch of a file: `length` bytes of blob `blobSha`, starting at byte `offset` of that blob. */
export type FilePiece = [blobSha: string, offset: number, length: number];

/** The value of `f:<sha256>`: concatenating the pieces in order gives the file's bytes. */
export interface FileRecord {
  /** sha256 of the file's bytes, lowercase hex. */
  sha256: string;
  /** Length of the file in bytes. */
  bytes: number;
  pieces: FilePiece[];
}

/** A file split for storing: its record and the own text of each chunk, by chunk index. */
export interface SplitFile {
  record: FileRecord;
  /** `texts[i]` is the own text of `analysis.chunks[i]` (empty when it has no segments) and its sha256. */
  texts: Array<{ sha256: string; text: Buffer }>;
}

/** sha256 of bytes as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Splits a file into its chunks' own texts following `analysis.segments`.
 *
 * @throws TypeError when the segments are not a sorted partition of `[0, bytes.length)` into
 *   valid chunk indexes (an empty `segments` array is accepted only for an empty file).
 */
export function splitFile(sha256: string, bytes: Buffer, analysis: FileAnalysis): SplitFile {
  const chunkCount = analysis.chunks.length;
  const parts: Buffer[][] = Array.from({ length: chunkCount }, () => []);
  const offsets = new Array<number>(chunkCount).fill(0);
  const located: Array<[chunkIndex: number, offset: number, length: number]> = [];
  let cursor = 0;
  for (const segment of analysis.segments) {
    const [start, end, chunkIndex] = segment;
    if (start !== cursor || end < start || end > bytes.length) {
      throw new TypeError(
        `file ${sha256}: segment [${start}, ${end}) does not continue the partition at byte ${cursor} of ${bytes.length}`,
      );
    }
    if (!Number.isInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= chunkCount) {
      throw new TypeError(
        `file ${sha256}: segment [${start}, ${end}) names chunk ${chunkIndex} of ${chunkCount}`,
      );
    }
    cursor = end;
    if (end === start) continue;
    parts[chunkIndex]!.push(bytes.subarray(start, end));
    located.push([chunkIndex, offsets[chunkIndex]!, end - start]);
    offsets[chunkIndex]! += end - start;
  }
  if (cursor !== bytes.length) {
    throw new TypeError(`file ${sha256}: segments cover ${cursor} of ${bytes.length} bytes`);
  }

  const texts = parts.map((chunkParts) => {
    const text = chunkParts.length === 1 ? chunkParts[0]! : Buffer.concat(chunkParts);
    return { sha256: sha256Hex(text), text };
  });
  const pieces: FilePiece[] = [];
  for (const [chunkIndex, offset, length] of located) {
    const blobSha = texts[chunkIndex]!.sha256;
    const last = pieces.at(-1);
    // Adjacent stretches of the same chunk (a partition may split one run) make one piece.
    if (last !== undefined && last[0] === blobSha && last[1] + last[2] === offset) {
      last[2] += length;
    } else {
      pieces.push([blobSha, offset, length]);
    }
  }
  return { record: { sha256, bytes: bytes.length, pieces }, texts };
}

/** Blob shas a file record refers to, each once, in first-use order. */
export function blobsOf(record: FileRecord): string[] {
  return [...new Set(record.pieces.map((piece) => piece[0]))];
}

/**
 * Checks that a parsed JSON value has the shape of a {@link FileRecord}.
 *
 * @throws Error naming what is wrong.
 */
export function assertFileRecord(value: unknown): asserts value is FileRecord {
  const record = value as FileRecord;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.sha256 !== 'string' ||
    !Number.isInteger(record.bytes) ||
    !Array.isArray(record.pieces)
  ) {
    throw new Error('not a file record');
  }
  for (const piece of record.pieces) {
    if (
      !Array.isArray(piece) ||
      typeof piece[0] !== 'string' ||
      !Number.isInteger(piece[1]) ||
      !Number.isInteger(piece[2]) ||
      piece[1] < 0 ||
      piece[2] < 0
    ) {
      throw new Error(`bad piece ${JSON.stringify(piece)}`);
    }
  }
}

/**
 * Concatenates a file's pieces.
 *
 * @param blobs the blobs the record refers to, by sha256.
 * @throws Error when a blob is missing or a piece lies outside its blob.
 */
export function assembleFile(record: FileRecord, blobs: Map<string, Buffer>): Buffer {
  const out = Buffer.allocUnsafe(record.bytes);
  let at = 0;
  for (const [blobSha, offset, length] of record.pieces) {
    const blob = blobs.get(blobSha);
    if (blob === undefined) throw new Error(`blob ${blobSha} is missing`);
    if (offset + length > blob.length) {
      throw new Error(
        `piece [${offset}, ${offset + length}) lies outside blob ${blobSha} of ${blob.length} bytes`,
      );
    }
    if (at + length > record.bytes)
      throw new Error(`pieces are longer than the ${record.bytes} bytes recorded`);
    blob.copy(out, at, offset, offset + length);
    at += length;
  }
  if (at !== record.bytes) throw new Error(`pieces give ${at} bytes, the record says ${record.bytes}`);
  return out;
}
