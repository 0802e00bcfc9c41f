// Subscriber tokens: compact JWTs signed with HMAC-SHA-256 (HS256) through WebCrypto, so the same
// code runs on Deno, Bun and Workers. Only HS256 is accepted: a token that names another `alg`
// (`none` above all) is refused before any signature work.
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
 * import { timingSafeEqual } from "./jwt.ts";
 * console.log(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))); // true
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
 * import { signToken } from "./jwt.ts";
 * const token = await signToken(
 *   { topics: ["chat.*"], exp: Math.floor(Date.now() / 1000) + 3600 },
 *   "a-secret-of-at-least-32-characters!!",
 * );
 * console.log(token.split(".").length); // 3
 * ```
 */
export async function signToken(claims: TokenClaims, secret: string): Promise<string> {
  const signingInput = `${jsonPart(HEADER)}.${jsonPart(claims)}`;
  return `${signingInput}.${base64UrlEncode(await signature(secret, signingInput))}`;
}

function refuse(message: string): ServerError {
  return new ServerError("token-invalid", message);
}

/**
 * Checks a subscriber token: its form, its `alg`, its signature (constant-time), `exp` and `nbf`
 * against `nowMs`, and the shape of its `topics` claim. Returns the claims, or throws a
 * {@link ServerError} (`token-invalid`, `token-expired`, `token-not-yet-valid`).
 *
 * @example
 * ```ts
 * import { signToken, verifyToken } from "./jwt.ts";
 * const secret = "a-secret-of-at-least-32-characters!!";
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * const claims = await verifyToken(await signToken({ topics: ["a"], exp }, secret), secret);
 * console.log(claims.topics); // ["a"]
 * ```
 */
export async function verifyToken(
  token: string,
  secret: string,
  nowMs: number = Date.now(),
): Promise<TokenClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw refuse("The token is not a JWT (three dot-separated parts). Mint a new one.");
  }
  const [headerPart, claimsPart, signaturePart] = parts;
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(decoder.decode(base64UrlDecode(headerPart) ?? new Uint8Array([0])));
    claims = JSON.parse(decoder.decode(base64UrlDecode(claimsPart) ?? new Uint8Array([0])));
  } catch {
    throw refuse("The token's header or claims are not base64url JSON. Mint a new one.");
  }
  const alg = (header as { alg?: unknown } | null)?.alg;
  if (alg !== "HS256") {
    throw refuse(`The token's alg is ${JSON.stringify(alg)}; only HS256 is accepted.`);
  }
  const given = base64UrlDecode(signaturePart);
  const expected = await signature(secret, `${headerPart}.${claimsPart}`);
  if (!given || !timingSafeEqual(given, expected)) {
    throw refuse(
      "The token's signature does not match: it was forged or signed with another " +
        "secret. Mint a new one with this server's HERALD_JWT_SECRET.",
    );
  }
  if (typeof claims !== "object" || claims === null) {
    throw refuse("The token's claims are not a JSON object.");
  }
  const { topics, exp, nbf } = claims as Record<string, unknown>;
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === "string" && t !== "")) {
    throw refuse('The token has no "topics" claim (a list of topic names or patterns).');
  }
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw refuse('The token has no "exp" claim: tokens must expire.');
  }
  const nowSeconds = nowMs / 1000;
  if (nowSeconds >= exp) {
    throw new ServerError(
      "token-expired",
      `The token expired at ${new Date(exp * 1000).toISOString()}. Mint a new one.`,
    );
  }
  if (nbf !== undefined && (typeof nbf !== "number" || nowSeconds < nbf)) {
    throw new ServerError(
      "token-not-yet-valid",
      `The token is not valid before ${
        typeof nbf === "number" ? new Date(nbf * 1000).toISOString() : String(nbf)
      }. Check the clocks, or mint it without nbf.`,
    );
  }
  return claims as unknown as TokenClaims;
}
