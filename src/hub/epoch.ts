/**
 * A new random broker epoch: 12 base36 characters (about 62 bits). A broker takes a new one when
 * its store starts empty, so cursors of an earlier life are recognised as such.
 *
 * @example
 * ```ts
 * import { newEpoch } from "@herald/sse";
 * console.log(/^[0-9a-z]{12}$/.test(newEpoch())); // true
 * ```
 */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let out = "";
  for (const byte of bytes) out += (byte % 36).toString(36);
  return out;
}
