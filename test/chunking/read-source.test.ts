import { describe, expect, it } from 'vitest';
import { createByteOffsetMapper, createLineMapper, decodeSource } from '../../src/chunking/read-source.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))),
  );

describe('decodeSource', () => {
  it('decodes UTF-8 text', () => {
    expect(decodeSource(bytes('const é = "名前 😀";\n'), 1000)).toEqual({
      ok: true,
      text: 'const é = "名前 😀";\n',
      bomBytes: 0,
    });
  });

  it('accepts an empty file', () => {
    expect(decodeSource(new Uint8Array(0), 1000)).toEqual({ ok: true, text: '', bomBytes: 0 });
  });

  it('removes a byte order mark and says so', () => {
    expect(decodeSource(bytes([0xef, 0xbb, 0xbf], 'x = 1\n'), 1000)).toEqual({
      ok: true,
      text: 'x = 1\n',
      bomBytes: 3,
    });
    expect(decodeSource(bytes([0xef, 0xbb, 0xbf]), 1000)).toEqual({ ok: true, text: '', bomBytes: 3 });
  });

  it('keeps CRLF line ends as they are', () => {
    expect(decodeSource(bytes('a\r\nb\r\n'), 1000)).toEqual({ ok: true, text: 'a\r\nb\r\n', bomBytes: 0 });
  });

  it('rejects a file larger than the limit, and accepts one at the limit', () => {
    expect(decodeSource(bytes('12345'), 4)).toEqual({
      ok: false,
      reason: 'larger than 4 bytes (--max-file-bytes)',
    });
    expect(decodeSource(bytes('1234'), 4)).toEqual({ ok: true, text: '1234', bomBytes: 0 });
  });

  it('calls a file with a NUL byte in its first 8000 bytes binary', () => {
    expect(decodeSource(bytes('abc', [0], 'def'), 1000)).toEqual({ ok: false, reason: 'binary file' });
    const lateNul = bytes('a'.repeat(8000), [0]);
    expect(decodeSource(lateNul, 10_000)).toEqual({ ok: true, text: `${'a'.repeat(8000)}\0`, bomBytes: 0 });
  });

  it.each([
    ['a lone continuation byte', bytes('ab', [0x80], 'c'), 2],
    ['a truncated sequence at the end', bytes('abc', [0xe2, 0x82]), 3],
    ['an overlong encoding', bytes('a', [0xc0, 0xaf]), 1],
    ['an encoded surrogate', bytes('é', [0xed, 0xa0, 0x80]), 2],
    ['a code point above U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 0],
    ['Latin-1 text', bytes('caf', [0xe9], ' ok'), 3],
    ['a bad byte after a byte order mark', bytes([0xef, 0xbb, 0xbf], 'x', [0xff]), 4],
  ])('rejects %s with the offset of the first bad byte', (_name, input, offset) => {
    expect(decodeSource(input, 1000)).toEqual({
      ok: false,
      reason: `not valid UTF-8 (first bad byte at offset ${offset})`,
    });
  });
});

describe('createByteOffsetMapper', () => {
  it('maps every offset of a string with 2-, 3- and 4-byte characters to its UTF-8 byte offset', () => {
    const text = 'a\u00e9b\u20ac\u{1F600}c\u00e9\u{10348}\n\u540d';
    const map = createByteOffsetMapper(text, 0);
    for (let i = 0; i <= text.length; i++) {
      const code = text.charCodeAt(i - 1);
      // An offset inside a surrogate pair maps to the start of the character.
      const boundary = i === 0 || !(code >= 0xd800 && code <= 0xdbff) ? i : i - 1;
      expect(map(i)).toBe(Buffer.byteLength(text.slice(0, boundary)));
    }
    expect(map(text.length)).toBe(Buffer.byteLength(text));
  });

  it('adds the byte order mark', () => {
    const text = 'x\u00e9y';
    const map = createByteOffsetMapper(text, 3);
    expect([0, 1, 2, 3].map(map)).toEqual([3, 4, 6, 7]);
    expect([0, 1, 2].map(createByteOffsetMapper('abc', 3))).toEqual([3, 4, 5]);
  });

  it('is the identity on ASCII text', () => {
    const map = createByteOffsetMapper('hello\r\nworld', 0);
    expect([0, 5, 7, 12].map(map)).toEqual([0, 5, 7, 12]);
  });

  it('rejects offsets outside the text', () => {
    expect(() => createByteOffsetMapper('abc', 0)(4)).toThrow(RangeError);
    expect(() => createByteOffsetMapper('\u00e9', 0)(-1)).toThrow(RangeError);
  });
});

describe('createLineMapper', () => {
  it('counts lines from 1, a CRLF once, the newline on the line it ends', () => {
    const text = 'ab\r\ncd\n\r\nlast';
    const line = createLineMapper(text);
    const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length;
    const got = Array.from({ length: text.length + 1 }, (_, i) => line(i));
    expect(got).toEqual(Array.from({ length: text.length + 1 }, (_, i) => lineOf(i)));
    expect([line(0), line(3), line(4), line(6), line(7), line(9), line(text.length)]).toEqual([
      1, 1, 2, 2, 3, 4, 4,
    ]);
  });

  it('answers queries in any order', () => {
    const line = createLineMapper('a\nb\nc\nd\n');
    expect([7, 0, 6, 2, 2, 4, 1, 8].map(line)).toEqual([4, 1, 4, 2, 2, 3, 1, 5]);
  });

  it('does not end a line at a lone carriage return', () => {
    const line = createLineMapper('a\rb\nc');
    expect([line(2), line(4)]).toEqual([1, 2]);
  });

  it('has one line for text without newlines', () => {
    const line = createLineMapper('');
    expect(line(0)).toBe(1);
  });
});
