// Subscriber tokens: compact JWTs signed with HMAC-SHA-256 (HS256) through WebCrypto, so the same
// code runs on Deno, Bun and Workers. Only HS256 is accepted: a token that names another `alg`
// (`none` above all) is refused before any signature work, and the claims are parsed only once the
// signature holds.
import { ServerError } from "./errors.ts";

/**
 * The claims of a subscriber token.
 *
 * @example
 * ```ts
 * import type { TokenClaims } from "./jwt.ts";
 * const claims: TokenClaims = { topics: ["chat.*"], exp: Math.floor(Date.now() / 1000) + 3600 };
 * ```
 */
export interface TokenClaims {
  /** Topic names or patterns (`chat.*`, `*`) the holder may subscribe to. */
  topics: string[];
  /** Expiry, in seconds since the epoch. Required. */
  exp: number;
  /** Not before, in seconds since the epoch. Optional. */
  nbf?: number;
  /** Issued at, in seconds since the epoch. Optional, informative. */
  iat?: number;
  /** Who the token was minted for. Optional, informative. */
  sub?: string;
}

const HEADER = { alg: "HS256", typ: "JWT" };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  return key;
}

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function jsonPart(value: unknown): string {
  return base64UrlEncode(encoder.encode(JSON.stringify(value)));
}

/**
 * Compares two byte strings in time that depends only on their lengths, never on where they
 * differ, so a forger can't learn a signature byte by byte from response times.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timingSafeEqual } from "./jwt.ts";
 * assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
 * assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function signature(secret: string, signingInput: string): Promise<Uint8Array> {
  const key = await hmacKey(secret);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput)));
}

/**
 * Mints a subscriber token: an HS256 JWT over `claims`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signToken } from "./jwt.ts";
 * const token = await signToken(
 *   { topics: ["chat.*"], exp: Math.floor(Date.now() / 1000) + 3600 },
 *   "a-secret-of-at-least-32-characters!!",
 * );
 * assert.equal(token.split(".").length, 3);
 * ```
 */
export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const signingInput = `${jsonPart(HEADER)}.${jsonPart(claims)}`;
  return `${signingInput}.${base64UrlEncode(await signature(secret, signingInput))}`;
}

function refuse(message: string): ServerError {
  return new ServerError("token-invalid", message);
}

/** The longest token looked at: far above any real one, and it bounds every parse below. */
export const MAX_TOKEN_CHARS = 8192;

function decodeJson(part: string): unknown {
  const bytes = base64UrlDecode(part);
  if (!bytes) throw new SyntaxError("not base64url");
  return JSON.parse(decoder.decode(bytes));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A NumericDate (seconds since the epoch) as ISO text, or the number when no Date can hold it. */
function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s since the epoch` : date.toISOString();
}

/**
 * Checks a subscriber token: its size and form, its header (`alg` must be HS256, and a `crit`
 * header is refused: this verifier understands no extension), its signature (constant-time,
 * before the claims are even parsed), then the claims: `topics` a non-empty list of non-empty
 * strings, `exp` a number in the future, `nbf` and `iat` numbers when present, `nbf` in the past.
 * Returns the claims, or throws a {@link ServerError}: `token-invalid` (anything malformed, forged
 * or of the wrong type), `token-expired`, `token-not-yet-valid`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signToken, verifyToken } from "./jwt.ts";
 * const secret = "a-secret-of-at-least-32-characters!!";
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * const claims = await verifyToken(await signToken({ topics: ["a"], exp }, secret), secret);
 * assert.deepEqual(claims.topics, ["a"]);
 * await assert.rejects(
 *   verifyToken(await signToken({ topics: [], exp }, secret), secret),
 *   { code: "token-invalid" },
 * );
 * ```
 */
export async function verifyToken(
  token: string,
  secret: string,
  nowMs: number = Date.now(),
): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_CHARS) {
    throw refuse(`The token is longer than ${MAX_TOKEN_CHARS} characters. Mint a shorter one.`);
  }
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw refuse("The token is not a JWT (three dot-separated parts). Mint a new one.");
  }
  const [headerPart, claimsPart, signaturePart] = parts;
  let header: unknown;
  try {
    header = decodeJson(headerPart);
  } catch {
    throw refuse("The token's header is not base64url JSON. Mint a new one.");
  }
  if (!isObject(header)) throw refuse("The token's header is not a JSON object.");
  if (header.alg !== "HS256") {
    throw refuse(`The token's alg is ${JSON.stringify(header.alg)}; only HS256 is accepted.`);
  }
  if ("crit" in header) {
    // RFC 7515 4.1.11: a verifier must refuse a token whose `crit` names what it doesn't know.
    throw refuse(
      "The token's header has a crit (critical extensions) parameter; this server " +
        "understands no JWS extension. Mint the token without crit.",
    );
  }
  const given = base64UrlDecode(signaturePart);
  const expected = await signature(secret, `${headerPart}.${claimsPart}`);
  if (!given || !timingSafeEqual(given, expected)) {
    throw refuse(
      "The token's signature does not match: it was forged or signed with another " +
        "secret. Mint a new one with this server's HERALD_JWT_SECRET.",
    );
  }
  let claims: unknown;
  try {
    claims = decodeJson(claimsPart);
  } catch {
    throw refuse("The token's claims are not base64url JSON. Mint a new one.");
  }
  if (!isObject(claims)) throw refuse("The token's claims are not a JSON object.");
  const { topics, exp, nbf, iat } = claims;
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === "string" && t !== "")) {
    throw refuse('The token has no "topics" claim (a list of topic names or patterns).');
  }
  if (topics.length === 0) {
    throw refuse('The token\'s "topics" claim is empty: it would allow nothing. Name a topic.');
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw refuse('The token has no numeric "exp" claim: tokens must expire.');
  }
  for (const [name, value] of [["nbf", nbf], ["iat", iat]] as const) {
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) {
      throw refuse(`The token's "${name}" claim is not a number of seconds since the epoch.`);
    }
  }
  const nowSeconds = nowMs / 1000;
  if (nowSeconds >= exp) {
    throw new ServerError(
      "token-expired",
      `The token expired at ${isoTime(exp)}. Mint a new one.`,
    );
  }
  if (typeof nbf === "number" && nowSeconds < nbf) {
    throw new ServerError(
      "token-not-yet-valid",
      `The token is not valid before ${isoTime(nbf)}. Check the clocks, or mint it without nbf.`,
    );
  }
  return claims as unknown as TokenClaims;
}
