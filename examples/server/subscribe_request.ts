// What `GET /v1/events` reads from a request before it subscribes: who asks (the token), what for
// (the topics, checked against the token), and for how long the stream may stay open (never past
// the token's expiry). The cursor is `hub.response`'s to read; only its length is checked here.
import type { ServerConfig } from "./config.ts";
import { findToken } from "./credentials.ts";
import { ServerError } from "./errors.ts";
import { type TokenClaims, verifyToken } from "./jwt.ts";
import { topicAllowed } from "./topic_patterns.ts";

/** A requested topic longer than this is refused before it is matched against the token's
 * patterns (the hub accepts far shorter names; this only bounds the matching work). */
export const MAX_REQUESTED_TOPIC_CHARS = 256;
/** The longest resume cursor looked at: a signed cursor of 32 topics is under 900 characters.
 * A longer `Last-Event-ID` is refused before the hub verifies it, so no client can make the
 * server hash (or remember) kilobytes of made-up cursor per request. */
export const MAX_CURSOR_CHARS = 1024;
/** The longest a timer can wait in every runtime (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A verified subscriber: the token's claims, and a key naming the token for the limits. */
export interface Subscriber {
  claims: TokenClaims;
  /** The token's signature: identifies the token without keeping the token itself as a key. */
  tokenKey: string;
}

/**
 * Finds and verifies the request's subscriber token (see `findToken` and `verifyToken`). Throws
 * `token-missing` or the verifier's refusal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { signToken } from "./jwt.ts";
 * import { authenticateSubscriber } from "./subscribe_request.ts";
 * const config = loadConfig({ HERALD_DEV_MODE: "true" });
 * const token = await signToken({ topics: ["a"], exp: 2_000_000_000 }, config.jwtSecret);
 * const request = new Request("http://x/v1/events?topic=a", {
 *   headers: { authorization: `Bearer ${token}` },
 * });
 * const { claims } = await authenticateSubscriber(request, config, 1_800_000_000_000);
 * assert.deepEqual(claims.topics, ["a"]);
 * ```
 */
export async function authenticateSubscriber(
  request: Request,
  config: ServerConfig,
  nowMs: number,
): Promise<Subscriber> {
  const found = findToken(request, config.tokenCookie);
  if (!found) {
    throw new ServerError(
      "token-missing",
      "Subscribing needs a token: send `Authorization: Bearer <token>`, the " +
        `${config.tokenCookie} cookie, or ?token=<token>. Mint one with \`deno task mint-token\`.`,
    );
  }
  const claims = await verifyToken(found.token, config.jwtSecret, nowMs);
  return { claims, tokenKey: found.token.slice(found.token.lastIndexOf(".") + 1) };
}

/**
 * The topics a request names (`?topic=a&topic=b`), de-duplicated, each allowed by the token's
 * `topics` claim. Throws `topics-missing`, `too-many-topics`, `topic-invalid` (too long to be a
 * topic) or `topic-forbidden`. The hub checks each name's form when it subscribes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allowedTopics } from "./subscribe_request.ts";
 * const claims = { topics: ["chat.*"], exp: 2_000_000_000 };
 * assert.deepEqual(allowedTopics(["chat.a", "chat.a"], claims, 10), ["chat.a"]);
 * assert.throws(() => allowedTopics(["news"], claims, 10), { code: "topic-forbidden" });
 * ```
 */
export function allowedTopics(
  requested: readonly string[] | undefined,
  claims: TokenClaims,
  maxTopics: number,
): string[] {
  const topics = [...new Set(requested ?? [])];
  if (topics.length === 0) {
    throw new ServerError(
      "topics-missing",
      "Name the topics to subscribe to: /v1/events?topic=a&topic=b.",
    );
  }
  if (topics.length > maxTopics) {
    throw new ServerError(
      "too-many-topics",
      `${topics.length} topics in one subscription; the most allowed is ${maxTopics} ` +
        "(HERALD_MAX_TOPICS_PER_SUBSCRIPTION).",
    );
  }
  const long = topics.find((topic) => topic.length > MAX_REQUESTED_TOPIC_CHARS);
  if (long !== undefined) {
    throw new ServerError(
      "topic-invalid",
      `A topic of ${long.length} characters was asked for; topics are short names ` +
        "(letters, digits and . _ : / -).",
    );
  }
  const forbidden = topics.filter((topic) => !topicAllowed(topic, claims.topics));
  if (forbidden.length > 0) {
    throw new ServerError(
      "topic-forbidden",
      `The token does not allow topic(s) ${forbidden.map((t) => JSON.stringify(t)).join(", ")}` +
        ` (it allows ${claims.topics.map((t) => JSON.stringify(t)).join(", ")}).`,
    );
  }
  return topics;
}

/**
 * Refuses a resume cursor (`Last-Event-ID`, else `?lastEventId=`) longer than
 * {@link MAX_CURSOR_CHARS} with `cursor-invalid`; `hub.response` checks the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCursorLength } from "./subscribe_request.ts";
 * checkCursorLength(new Request("http://x/?lastEventId=h1.e.t.0"));
 * const long = new Request("http://x/", { headers: { "last-event-id": "h1." + "0".repeat(2000) } });
 * assert.throws(() => checkCursorLength(long), { code: "cursor-invalid" });
 * ```
 */
export function checkCursorLength(request: Request): void {
  const cursor = request.headers.get("last-event-id") ||
    new URL(request.url).searchParams.get("lastEventId") || "";
  if (cursor.length > MAX_CURSOR_CHARS) {
    throw new ServerError(
      "cursor-invalid",
      `Last-Event-ID is ${cursor.length} characters long; no cursor of this server is longer ` +
        `than ${MAX_CURSOR_CHARS}. Reconnect without it to start from now.`,
    );
  }
}

/**
 * How long a stream may stay open, as `sseResponse` options: `HERALD_MAX_DURATION_MS` (0: none),
 * but never past the token's `exp`. A stream the token bounds ends exactly at expiry (no jitter):
 * the client then comes back with a fresh token and its cursor, and loses nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamLifetime } from "./subscribe_request.ts";
 * assert.deepEqual(streamLifetime(0, 60, 1_000), { maxDurationMs: 59_000, maxDurationJitter: 0 });
 * assert.deepEqual(streamLifetime(5_000, 60, 1_000), { maxDurationMs: 5_000 });
 * ```
 */
export function streamLifetime(
  maxDurationMs: number,
  expSeconds: number,
  nowMs: number,
): { maxDurationMs: number; maxDurationJitter?: number } {
  const untilExpiryMs = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(expSeconds * 1000 - nowMs)));
  if (maxDurationMs > 0 && maxDurationMs < untilExpiryMs) return { maxDurationMs };
  return { maxDurationMs: untilExpiryMs, maxDurationJitter: 0 };
}
