/**
 * A new random broker epoch: 12 base36 characters (about 62 bits). A broker takes a new one when
 * its store starts empty, so cursors of an earlier life are recognised as such.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newEpoch } from "./epoch.ts";
 * assert.match(newEpoch(), /^[0-9a-z]{12}$/);
 * assert.notEqual(newEpoch(), newEpoch());
 * ```
 */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let out = "";
  for (const byte of bytes) out += (byte % 36).toString(36);
  return out;
}
