/**
 * Canonical JSON, used to give a snapshot an id that depends on its content only.
 *
 * The text is `JSON.stringify` of the value with the keys of every plain object in sorted order
 * (`Array.prototype.sort` order, i.e. by UTF-16 code units; the JavaScript engine still places
 * integer-like keys such as `"10"` first, in ascending numeric order). Two values that are equal
 * as JSON therefore give the same text whatever order their keys were inserted in. Values that
 * JSON cannot hold follow `JSON.stringify`: `undefined` and functions vanish from objects and
 * become `null` in arrays; a `toJSON` method is applied first.
 */

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    // Copy only objects whose keys are out of order: most callers build sorted objects already.
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      const sorted: Record<string, unknown> = {};
      for (const key of keys) sorted[key] = (value as Record<string, unknown>)[key];
      return sorted;
    }
  }
  return value;
}

/**
 * Serializes a JSON value canonically (see the module comment). A top-level `undefined` gives
 * `'null'`, so the result is always a JSON text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}
