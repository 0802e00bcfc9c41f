// Where credentials come from, and the publisher-key check.
import { ServerError } from "./errors.ts";
import { timingSafeEqual } from "./jwt.ts";

/** Where a subscriber token was found (docs/security.md says what each costs). */
export type TokenSource = "authorization" | "cookie" | "query";

/**
 * Finds a subscriber token in a request: `Authorization: Bearer` first, then the `token` query
 * parameter, then the cookie named `cookieName`. The cookie comes last because it is ambient: the
 * browser sends it with every request to the host (any port), while the other two are chosen for
 * this request. Returns `undefined` when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findToken } from "./credentials.ts";
 * const request = new Request("http://x/v1/events?topic=a&token=abc");
 * assert.deepEqual(findToken(request, "herald_token"), { token: "abc", source: "query" });
 * ```
 */
export function findToken(
  request: Request,
  cookieName: string,
): { token: string; source: TokenSource } | undefined {
  const bearer = bearerToken(request);
  if (bearer) return { token: bearer, source: "authorization" };
  const query = new URL(request.url).searchParams.get("token");
  if (query) return { token: query, source: "query" };
  const cookie = readCookie(request.headers.get("cookie"), cookieName);
  if (cookie) return { token: cookie, source: "cookie" };
  return undefined;
}

/**
 * The credential of an `Authorization: Bearer <credential>` header, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerToken } from "./credentials.ts";
 * const request = new Request("http://x/", { headers: { authorization: "Bearer k1" } });
 * assert.equal(bearerToken(request), "k1");
 * ```
 */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match ? match[1] : undefined;
}

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) {
      const value = pair.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value) || undefined;
      } catch {
        return value || undefined;
      }
    }
  }
  return undefined;
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

// The configured keys' digests, made once: only keys this server holds are ever stored here,
// never what a client sends.
const keyDigests = new Map<string, Promise<Uint8Array>>();

function keyDigest(key: string): Promise<Uint8Array> {
  let found = keyDigests.get(key);
  if (!found) {
    found = digest(key);
    keyDigests.set(key, found);
  }
  return found;
}

/**
 * Which of `keys` the request's `Authorization: Bearer <key>` is, or `undefined`. Keys are
 * compared as SHA-256 digests in constant time, and every key is compared, so timing reveals
 * neither a key nor which one matched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerKeyOf } from "./credentials.ts";
 * const request = new Request("http://x/", { headers: { authorization: "Bearer k2" } });
 * assert.equal(await bearerKeyOf(request, ["k1", "k2"]), "k2");
 * assert.equal(await bearerKeyOf(request, ["k1"]), undefined);
 * ```
 */
export async function bearerKeyOf(
  request: Request,
  keys: readonly string[],
): Promise<string | undefined> {
  const given = bearerToken(request);
  if (!given) return undefined;
  const givenDigest = await digest(given);
  let matched: string | undefined;
  for (const key of keys) {
    if (timingSafeEqual(givenDigest, await keyDigest(key)) && matched === undefined) matched = key;
  }
  return matched;
}

/**
 * Checks `Authorization: Bearer <key>` against the configured publisher keys and returns the key
 * (publish rates are counted per key), compared as {@link bearerKeyOf} does. Throws a
 * {@link ServerError} `publisher-key-invalid` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPublisherKey } from "./credentials.ts";
 * const request = new Request("http://x/", { headers: { authorization: "Bearer k1" } });
 * assert.equal(await checkPublisherKey(request, ["k1", "k2"]), "k1");
 * await assert.rejects(checkPublisherKey(request, ["k2"]), { code: "publisher-key-invalid" });
 * ```
 */
export async function checkPublisherKey(
  request: Request,
  keys: readonly string[],
): Promise<string> {
  if (!bearerToken(request)) {
    throw new ServerError(
      "publisher-key-invalid",
      "Publishing needs a publisher key: send `Authorization: Bearer <key>` with one of the " +
        "keys in HERALD_PUBLISHER_KEYS.",
    );
  }
  const matched = await bearerKeyOf(request, keys);
  if (matched === undefined) {
    throw new ServerError(
      "publisher-key-invalid",
      "The publisher key is not one of this server's HERALD_PUBLISHER_KEYS. Check the key.",
    );
  }
  return matched;
}
