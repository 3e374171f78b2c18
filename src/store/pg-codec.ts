/**
 * PostgreSQL cannot hold every string SQLite holds: text values may not contain U+0000, and JSONB
 * refuses the escape `\u0000` and lone UTF-16 surrogates (`\ud800`), all of which a JSON request
 * body can carry. These codecs make such values round-trip exactly, so both engines store what
 * the API accepts.
 *
 * Text: U+0000 becomes U+0001 U+0001 and U+0001 becomes U+0001 U+0002. Every other character is
 * kept. The code is prefix-free and keeps the order of characters, so byte-wise comparison
 * (COLLATE "C", SQLite's BINARY) orders encoded values as it orders the originals: ORDER BY and
 * `id > $1` paging give the same answers on both engines.
 *
 * JSON: inside JSON text, the escapes `\u0000` and `\u0001` become `\u0001\u0001` and
 * `\u0001\u0002`, and a lone surrogate escape `\udXXX` becomes `\u0001~dXXX`. Values that need
 * none of this (nearly all) pass through untouched.
 */

const NUL = '\u0000';
const SOH = '\u0001';

export function encodeText(value: string): string {
  if (!value.includes(NUL) && !value.includes(SOH)) return value;
  return value.replaceAll(SOH, `${SOH}\u0002`).replaceAll(NUL, `${SOH}${SOH}`);
}

export function decodeText(value: string): string {
  let at = value.indexOf(SOH);
  if (at < 0) return value;
  let out = '';
  let from = 0;
  while (at >= 0) {
    out += value.slice(from, at) + (value[at + 1] === SOH ? NUL : SOH);
    from = at + 2;
    at = value.indexOf(SOH, from);
  }
  return out + value.slice(from);
}

export function encodeNullableText(value: string | null): string | null {
  return value === null ? null : encodeText(value);
}

export function decodeNullableText(value: string | null): string | null {
  return value === null ? null : decodeText(value);
}

/** JSON text for a JSONB parameter. */
export function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (!text.includes('\\u')) return text;
  // Walk escapes left to right so an escaped backslash followed by `u0000` is not taken for one.
  return text.replace(/\\(u[0-9a-f]{4}|.)/g, (whole, body: string) => {
    if (body === 'u0000') return '\\u0001\\u0001';
    if (body === 'u0001') return '\\u0001\\u0002';
    if (/^ud[89a-f]/.test(body)) return `\\u0001~${body.slice(1)}`;
    return whole;
  });
}

/** A JSONB value as PostgreSQL prints it, back to what was stored. */
export function decodeJson(text: string): unknown {
  if (!text.includes('\\u0001')) return JSON.parse(text);
  return JSON.parse(
    text.replace(
      /\\(u0001(?:\\u0001|\\u0002|~d[89a-f][0-9a-f]{2})|u[0-9a-f]{4}|.)/g,
      (whole, body) => {
        if (body === 'u0001\\u0001') return '\\u0000';
        if (body === 'u0001\\u0002') return '\\u0001';
        if ((body as string).startsWith('u0001~')) return `\\u${(body as string).slice(6)}`;
        return whole;
      },
    ),
  );
}
