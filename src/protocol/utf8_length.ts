/**
 * The number of bytes `text` takes as UTF-8, without encoding it. A lone surrogate counts as the
 * three bytes of the U+FFFD it becomes.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./utf8_length.ts";
 * console.log(utf8Length("héllo €")); // 10
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A valid pair is 4 bytes for 2 code units.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Whether `text` fits in `limitBytes` of UTF-8. Cheap for the common case: a UTF-16 code unit is at
 * most 3 UTF-8 bytes, so only text longer than a third of the limit is measured exactly.
 *
 * @example
 * ```ts
 * import { fitsUtf8 } from "./utf8_length.ts";
 * console.log(fitsUtf8("€€", 6), fitsUtf8("€€", 5)); // true false
 * ```
 */
export function fitsUtf8(text: string, limitBytes: number): boolean {
  if (text.length * 3 <= limitBytes) return true;
  if (text.length > limitBytes) return false;
  return utf8Length(text) <= limitBytes;
}
