// Optional tamper evidence for cursors: an HMAC-SHA256 (truncated to 128 bits, base64url) over
// the unsigned cursor, with a secret only the servers know. Without it a forged cursor is still
// caught when it is malformed, names other topics, or points past a topic's newest event; with
// it, any edit is caught.
import { HubCursorError } from "./errors.ts";

const SIGNATURE_BYTES = 16;
// base64url without padding of SIGNATURE_BYTES.
const SIGNATURE_CHARS = 22;
// Signing runs once per delivered event per distinct cursor; subscribers of the same topics share
// cursors, so a small cache turns N signatures per broadcast into one.
const CACHE_ENTRIES = 4096;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Signs and verifies cursors with one secret. */
export interface CursorSigner {
  /** Returns `cursor~signature`. */
  sign(cursor: string): Promise<string>;
  /** Returns the unsigned cursor, or throws {@link HubCursorError} `cursor-signature`. */
  verify(signed: string): Promise<string>;
}

/**
 * Makes a {@link CursorSigner} from a secret (at least 16 characters). `maxCursorLength` is the
 * longest unsigned cursor the hub makes: verify refuses anything longer before hashing it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCursorSigner } from "./cursor_signing.ts";
 * const signer = await createCursorSigner("a secret of sixteen chars or more");
 * const signed = await signer.sign("h1.e.t.0");
 * assert.equal(await signer.verify(signed), "h1.e.t.0");
 * await assert.rejects(signer.verify("h1.e.t.1" + signed.slice(8)), { code: "cursor-signature" });
 * ```
 */
export async function createCursorSigner(
  secret: string,
  maxCursorLength = 4096,
): Promise<CursorSigner> {
  if (typeof secret !== "string" || secret.length < 16) {
    throw new TypeError("cursorSecret must be a string of at least 16 characters.");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  // Only cursors this hub made are remembered (by sign): verify takes what a client sends, and a
  // cache filled from there would hold whatever an attacker chose to send.
  const cache = new Map<string, string>();
  async function compute(cursor: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(cursor));
    return base64url(new Uint8Array(mac, 0, SIGNATURE_BYTES));
  }
  return {
    async sign(cursor) {
      let value = cache.get(cursor);
      if (value === undefined) {
        value = await compute(cursor);
        if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(cursor, value);
      }
      return cursor + "~" + value;
    },
    async verify(signed) {
      // Longer than any cursor this hub makes (plus its signature): refused before HMAC work.
      if (typeof signed !== "string" || signed.length > maxCursorLength + 1 + SIGNATURE_CHARS) {
        throw new HubCursorError(
          "malformed-cursor",
          `Last-Event-ID is longer than any cursor of this hub: it is not one. ` +
            "cursor of this hub. Reconnect without Last-Event-ID to start from now.",
        );
      }
      const tilde = signed.indexOf("~");
      const cursor = tilde === -1 ? signed : signed.slice(0, tilde);
      const given = tilde === -1 ? "" : signed.slice(tilde + 1);
      const expected = cache.get(cursor) ?? await compute(cursor);
      // Length-independent comparison: no early exit on the first differing character.
      let diff = given.length ^ expected.length;
      for (let i = 0; i < expected.length; i++) {
        diff |= expected.charCodeAt(i) ^ (given.charCodeAt(i) || 0);
      }
      if (diff !== 0) {
        throw new HubCursorError(
          "cursor-signature",
          "Last-Event-ID carries no valid signature: it was edited or made by another " +
            "deployment. Reconnect without Last-Event-ID to start from now.",
        );
      }
      return cursor;
    },
  };
}
