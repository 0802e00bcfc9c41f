// Mints a subscriber token for development:
//   deno task mint-token --topics 'chat.*,news' --ttl 3600 [--sub alice] [--nbf 0]
//   npm run mint-token -- --topics 'chat.*'
// Signs with HERALD_JWT_SECRET, or with the dev-mode secret (HERALD_DEV_MODE=true) when that is
// unset. Prints the token; use it as `Authorization: Bearer <token>`, the cookie, or
// `?token=`.
import { DEV_JWT_SECRET } from "./config.ts";
import { signToken, type TokenClaims } from "./jwt.ts";

/**
 * Parses `--name value` pairs of the mint-token command line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMintArgs } from "./mint_token.ts";
 * const options = parseMintArgs(["--topics", "a,b.*", "--ttl", "60"]);
 * assert.deepEqual(options.topics, ["a", "b.*"]);
 * assert.equal(options.ttlSeconds, 60);
 * ```
 */
export function parseMintArgs(
  args: readonly string[],
): { topics: string[]; ttlSeconds: number; sub?: string; nbfSeconds?: number } {
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? undefined : args[i + 1];
  };
  const topics = (value("topics") ?? "*").split(",").map((s) => s.trim()).filter(Boolean);
  const ttlSeconds = Number(value("ttl") ?? "3600");
  if (!Number.isFinite(ttlSeconds)) throw new Error("--ttl takes a number of seconds.");
  const nbf = value("nbf");
  return {
    topics,
    ttlSeconds,
    sub: value("sub"),
    nbfSeconds: nbf === undefined ? undefined : Number(nbf),
  };
}

if (import.meta.main) {
  const options = parseMintArgs(Deno.args);
  const secret = Deno.env.get("HERALD_JWT_SECRET") || DEV_JWT_SECRET;
  const now = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = { topics: options.topics, exp: now + options.ttlSeconds, iat: now };
  if (options.sub) claims.sub = options.sub;
  if (options.nbfSeconds !== undefined) claims.nbf = now + options.nbfSeconds;
  if (secret === DEV_JWT_SECRET) {
    console.error("(signed with the dev-mode secret: set HERALD_JWT_SECRET for a real server)");
  }
  console.log(await signToken(claims, secret));
}
