/**
 * Turning a source file's bytes into the string the parsers see, and mapping positions in that
 * string back to the file: UTF-16 code-unit offsets (what JavaScript strings and node-tree-sitter
 * use) to UTF-8 byte offsets and 1-based line numbers (what the manifest records).
 */

/**
 * A file's bytes classified for chunking: decoded text, or why it is not chunked.
 * `bomBytes` is 3 when the file starts with a UTF-8 byte order mark (removed from `text`), else 0.
 */
export type SourceText = { ok: true; text: string; bomBytes: 0 | 3 } | { ok: false; reason: string };

/** How many leading bytes are searched for a NUL byte, as git does to call a file binary. */
const BINARY_SNIFF_BYTES = 8000;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Classifies the raw bytes of a source file.
 *
 * Reasons, in the order they are checked: `larger than N bytes (--max-file-bytes)` when the file
 * has more than `maxFileBytes` bytes; `binary file` when one of the first 8000 bytes is NUL;
 * `not valid UTF-8 (first bad byte at offset N)` (N is a 0-based byte offset into the file,
 * byte order mark included) when the bytes are not UTF-8 as the WHATWG Encoding Standard decodes
 * it. An empty file is ok with text `''`. A leading UTF-8 byte order mark is removed.
 */
export function decodeSource(bytes: Uint8Array, maxFileBytes: number): SourceText {
  if (bytes.length > maxFileBytes) {
    return { ok: false, reason: `larger than ${maxFileBytes} bytes (--max-file-bytes)` };
  }
  const sniff = bytes.length > BINARY_SNIFF_BYTES ? bytes.subarray(0, BINARY_SNIFF_BYTES) : bytes;
  if (sniff.indexOf(0) !== -1) return { ok: false, reason: 'binary file' };
  const bomBytes = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bomBytes === 0 ? bytes : bytes.subarray(bomBytes);
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return {
      ok: false,
      reason: `not valid UTF-8 (first bad byte at offset ${bomBytes + findInvalidUtf8(body)})`,
    };
  }
  return { ok: true, text, bomBytes };
}

/**
 * Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode 15, table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or `bytes.length` if all are
 * well formed. Only called once the fast decoder has failed, so it need not be quick.
 */
function findInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return n;
}

/**
 * Maps UTF-16 code-unit offsets into `text` to UTF-8 byte offsets into the original file (so
 * `bomBytes` is added). Valid arguments are `0..text.length`; an offset between the two halves
 * of a surrogate pair maps to the byte where the pair's character starts. Others throw a
 * RangeError.
 *
 * Setup is O(n) and makes a 4-byte-per-code-unit table, skipped when `text` is pure ASCII (then
 * the mapping is an addition); each query is O(1).
 */
export function createByteOffsetMapper(text: string, bomBytes: number): (utf16Index: number) => number {
  const n = text.length;
  const check = (utf16Index: number): void => {
    if (!(utf16Index >= 0 && utf16Index <= n)) {
      throw new RangeError(`UTF-16 offset ${utf16Index} is outside 0..${n}`);
    }
  };
  // Text decoded from valid UTF-8 has no lone surrogates, so equal lengths mean pure ASCII.
  if (Buffer.byteLength(text, 'utf8') === n) {
    return (utf16Index) => {
      check(utf16Index);
      return utf16Index + bomBytes;
    };
  }
  const table = new Uint32Array(n + 1);
  let byte = bomBytes;
  for (let i = 0; i < n; i++) {
    table[i] = byte;
    const c = text.charCodeAt(i);
    if (c < 0x80) byte += 1;
    else if (c < 0x800) byte += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(text.charCodeAt(i + 1))) {
      table[++i] = byte;
      byte += 4;
    } else byte += 3; // the rest of the BMP; a lone surrogate is written as U+FFFD, also 3 bytes
  }
  table[n] = byte;
  return (utf16Index) => {
    check(utf16Index);
    return table[utf16Index]!;
  };
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Maps a UTF-16 code-unit offset into `text` to its 1-based line number. `'\n'` ends a line and
 * belongs to the line it ends, so `"\r\n"` counts once and a lone `'\r'` does not end a line.
 * Offsets past the end give the last line, negative ones line 1. Setup is O(n) (a table of line
 * starts); a query is a binary search, O(1) when it falls on the line of the previous query.
 */
export function createLineMapper(text: string): (utf16Index: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const lineStarts = Uint32Array.from(starts);
  const lines = lineStarts.length;
  let last = 0;
  return (utf16Index) => {
    if (utf16Index >= lineStarts[last]! && (last + 1 === lines || utf16Index < lineStarts[last + 1]!)) {
      return last + 1;
    }
    // Largest line index whose start is <= utf16Index.
    let lo = 0;
    let hi = lines - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (lineStarts[mid]! <= utf16Index) lo = mid;
      else hi = mid - 1;
    }
    last = lo;
    return lo + 1;
  };
}
