/**
 * The number of bytes `text` (or its part from `start` to `end`) takes as UTF-8, without
 * encoding it. A lone surrogate counts as the three bytes of the U+FFFD it becomes.
 *
 * Each code unit is counted on its own (1, 2 or 3 bytes) except a low surrogate right after a
 * high one, which adds 1: a pair is then 3 + 1 = 4 bytes. Counted that way, the length of two
 * pieces is the sum of their lengths, less 2 when the first ends in a high surrogate and the
 * second starts with a low one; that is what lets a parser count a line chunk by chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "./utf8_length.ts";
 * assert.equal(utf8Length("héllo €"), 10);
 * assert.equal(utf8Length("🦊"), 4);
 * assert.equal(utf8Length("\uD83D"), 3); // a lone surrogate is written as U+FFFD
 * assert.equal(utf8Length("ab€cd", 2, 3), 3);
 * ```
 */
export function utf8Length(text: string, start = 0, end: number = text.length): number {
  let bytes = end - start;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    // 3 bytes, but a low surrogate right after a high one adds 1 to the high one's 3.
    else if (
      (code & 0xfc00) !== 0xdc00 || i === start || (text.charCodeAt(i - 1) & 0xfc00) !== 0xd800
    ) bytes += 2;
  }
  return bytes;
}

/**
 * Whether `text` fits in `limitBytes` of UTF-8. Cheap for the common case: a UTF-16 code unit is at
 * most 3 UTF-8 bytes, so only text longer than a third of the limit is measured exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitsUtf8 } from "./utf8_length.ts";
 * assert.equal(fitsUtf8("€€", 6), true);
 * assert.equal(fitsUtf8("€€", 5), false);
 * ```
 */
export function fitsUtf8(text: string, limitBytes: number): boolean {
  if (text.length * 3 <= limitBytes) return true;
  if (text.length > limitBytes) return false;
  return utf8Length(text) <= limitBytes;
}
