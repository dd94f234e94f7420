/** Offsets into source text: UTF-16 code units (what JavaScript engines report) to UTF-8 bytes. */

/**
 * A function from UTF-16 offsets of `text` to UTF-8 byte offsets (identity for ASCII text).
 * Offsets past the end map to the text's byte length.
 */
export function utf16ToUtf8Offsets(text: string): (offset: number) => number {
  if (Buffer.byteLength(text) === text.length) return (offset) => Math.min(offset, text.length);
  const bytes = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair is 4 bytes: counted on the high half, nothing on the low half.
    const width =
      code < 0x80
        ? 1
        : code < 0x800
          ? 2
          : code >= 0xd800 && code < 0xdc00
            ? 4
            : code >= 0xdc00 && code < 0xe000
              ? 0
              : 3;
    bytes[i + 1] = bytes[i]! + width;
  }
  return (offset) => bytes[Math.min(Math.max(offset, 0), text.length)]!;
}
