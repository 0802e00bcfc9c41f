// The key that signs cursors. Signed cursors stop a token holder from editing a cursor to read
// history it was never sent (an earlier position, another epoch); every server of a deployment
// must sign with the same key, so by default it is derived from the secret they already share.
import type { ServerConfig } from "./config.ts";

/** What the derived key is an HMAC of: names its one use, so it is never the JWT key itself. */
const DERIVATION_LABEL = "herald reference server: cursor signing key v1";

/**
 * The cursor-signing secret of a config: `HERALD_CURSOR_SECRET` when set, else
 * HMAC-SHA-256(`HERALD_JWT_SECRET`, a fixed label) in base64url. Derived, the key is the same on
 * every server that shares the JWT secret (a client resumes on any of them), differs from the JWT
 * key (a cursor signature is never a token signature), and changes when the JWT secret is rotated
 * (cursors signed before then are refused as `cursor-invalid`; clients start from now).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cursorSecretFor } from "./cursor_secret.ts";
 * const jwtSecret = "a-random-secret-of-32-characters-or-more";
 * const derived = await cursorSecretFor({ jwtSecret, cursorSecret: undefined });
 * assert.equal(derived, await cursorSecretFor({ jwtSecret, cursorSecret: undefined }));
 * assert.notEqual(derived, jwtSecret);
 * const own = "another-random-secret-of-32-characters";
 * assert.equal(await cursorSecretFor({ jwtSecret, cursorSecret: own }), own);
 * ```
 */
export async function cursorSecretFor(
  config: Pick<ServerConfig, "jwtSecret" | "cursorSecret">,
): Promise<string> {
  if (config.cursorSecret !== undefined) return config.cursorSecret;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(config.jwtSecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(DERIVATION_LABEL)),
  );
  let binary = "";
  for (const byte of mac) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
