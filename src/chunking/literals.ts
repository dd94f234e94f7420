/**
 * Literal values for rule 3 of shared/spec/semantic-hash.md: two spellings of the same value
 * give the same token. Strings become `s:` + the JSON of the decoded value, numbers `n:` + a
 * canonical decimal (integers exactly, through BigInt; other values as JavaScript prints them).
 */

/** Token for a string value. */
export function stringToken(value: string): string {
  return `s:${JSON.stringify(value)}`;
}

/**
 * Canonical form of a numeric literal written as JavaScript, TypeScript, Python or Go write them:
 * `0x10`, `0o20`, `0b10000`, `020` (legacy/Go octal), `16`, `1_6` and `1.6e1` all give `16`.
 * Integers are exact (BigInt); fractional values use JavaScript's shortest round-trip printing.
 * Returns undefined for text that is not a plain number (the caller then keeps the raw text).
 */
export function canonicalNumber(text: string, legacyOctal: boolean): string | undefined {
  const t = text.replace(/_/g, '').toLowerCase();
  if (/^0[xob][0-9a-f]+$/.test(t)) return BigInt(t).toString();
  if (legacyOctal && /^0[0-7]+$/.test(t)) return BigInt(`0o${t.slice(1)}`).toString();
  if (/^\d+$/.test(t)) return BigInt(t).toString();
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) {
    const v = Number(t);
    if (!Number.isFinite(v)) return undefined;
    if (Number.isInteger(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER) return BigInt(v).toString();
    return String(v);
  }
  return undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
  a: '\u0007',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
};

/**
 * Decodes one escape sequence as written (`\n`, `\x41`, `\u0041`, `\u{1F600}`, `\101`,
 * `\U0001F600`, `\N{...}` kept verbatim). Unknown escapes decode to the escaped character
 * (JavaScript) or stay as written (Python keeps `\q` as two characters): `keepUnknown`.
 */
export function decodeEscape(seq: string, keepUnknown: boolean): string {
  const body = seq.slice(1);
  if (body.length === 0) return seq;
  const c = body[0]!;
  if (c === '\n' || c === '\r' || body === '\r\n' || body === '\u2028' || body === '\u2029') return ''; // line continuation
  if (body.length === 1 && SIMPLE_ESCAPES[c] !== undefined) return SIMPLE_ESCAPES[c]!;
  let m = /^x([0-9a-fA-F]{2})$/.exec(body);
  if (m) return String.fromCharCode(Number.parseInt(m[1]!, 16));
  m =
    /^u([0-9a-fA-F]{4})$/.exec(body) ??
    /^u\{([0-9a-fA-F]+)\}$/.exec(body) ??
    /^U([0-9a-fA-F]{8})$/.exec(body);
  if (m) {
    const cp = Number.parseInt(m[1]!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : seq;
  }
  m = /^([0-7]{1,3})$/.exec(body);
  if (m) return String.fromCharCode(Number.parseInt(m[1]!, 8));
  if (keepUnknown) return seq;
  return body;
}
