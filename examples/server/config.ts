// Settings of the reference server, read from environment variables. Every variable has a safe
// default. Dev mode (well-known secrets, a session route that hands them out) is on only when
// HERALD_DEV_MODE=true, and refuses to start next to real secrets, a proxy or a public address;
// otherwise the secrets are required, so a server exposed to a network never runs with a secret
// anyone can read in this file.
import { DEFAULT_MAX_EVENT_BYTES } from "@herald/sse/protocol";
import { ServerError } from "./errors.ts";

/** The JWT secret of dev mode. Public: dev mode is for one machine, never for a network. */
export const DEV_JWT_SECRET = "herald-dev-secret-do-not-use-in-production";
/** The publisher key of dev mode, public like {@link DEV_JWT_SECRET}. */
export const DEV_PUBLISHER_KEY = "herald-dev-publisher-key-not-a-secret";

/** The shortest secret or key accepted (JWT secret, publisher and metrics keys, cursor secret):
 * 32 characters, so a random one holds 256 bits for HS256 and can't be guessed online. */
export const MIN_SECRET_CHARS = 32;

/** The largest `HERALD_MAX_EVENT_BYTES` accepted: what every Herald client reads by default
 * (`DEFAULT_MAX_EVENT_BYTES`, 1 MiB) less room for the event's name, id and field names. */
export const MAX_EVENT_BYTES_LIMIT = DEFAULT_MAX_EVENT_BYTES - 16 * 1024;

/**
 * The reference server's settings. docs/deploy.md lists the variable behind each field and its
 * default; docs/security.md says what each limit protects.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig, type ServerConfig } from "./config.ts";
 * const config: ServerConfig = loadConfig({ PORT: "9000", HERALD_DEV_MODE: "true" });
 * assert.equal(config.port, 9000);
 * assert.equal(config.devMode, true);
 * ```
 */
export interface ServerConfig {
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  /** `PORT`, default `8000`. */
  port: number;
  /** `HERALD_DEV_MODE`, default `false`: the dev secrets and `POST /v1/dev/session`. */
  devMode: boolean;
  /** `HERALD_JWT_SECRET`: HMAC key of subscriber tokens (HS256), 32+ characters. */
  jwtSecret: string;
  /** `HERALD_PUBLISHER_KEYS`: comma-separated keys (32+ characters each) accepted as
   * `Authorization: Bearer <key>`. */
  publisherKeys: string[];
  /** `HERALD_CURSOR_SECRET` (32+ characters): signs cursors. Unset: a key derived from the JWT
   * secret (see cursor_secret.ts), so cursors are always signed. */
  cursorSecret: string | undefined;
  /** `HERALD_TOKEN_COOKIE`, default `herald_token`: the cookie a token may come in. */
  tokenCookie: string;
  /** `HERALD_CORS_ORIGINS`: comma-separated origins allowed cross-origin; empty = same-origin. */
  corsOrigins: string[];
  /** `HERALD_CORS_CREDENTIALS`, default `false`: allow cookies cross-origin (never with `*`). */
  corsCredentials: boolean;
  /** `HERALD_TRUST_PROXY`, default `false`: take the client address from `X-Forwarded-For`. */
  trustProxy: boolean;
  /** `HERALD_MAX_CONNECTIONS_PER_TOKEN`, default 5. */
  maxConnectionsPerToken: number;
  /** `HERALD_MAX_CONNECTIONS_PER_ADDRESS`, default 50. */
  maxConnectionsPerAddress: number;
  /** `HERALD_SUBSCRIBE_RATE_PER_SECOND`, default 1: subscribe requests refilled per second, per
   * token. */
  subscribeRatePerSecond: number;
  /** `HERALD_SUBSCRIBE_BURST`, default 10: subscribe requests a token may make at once. */
  subscribeBurst: number;
  /** `HERALD_ADDRESS_SUBSCRIBE_RATE_PER_SECOND`, default 10: subscribe requests refilled per
   * second, per client address. */
  addressSubscribeRatePerSecond: number;
  /** `HERALD_ADDRESS_SUBSCRIBE_BURST`, default 100: subscribe requests an address may make at
   * once. */
  addressSubscribeBurst: number;
  /** `HERALD_AUTH_FAILURE_RATE_PER_SECOND`, default 1: failed authentications forgiven per
   * second, per client address. */
  authFailureRatePerSecond: number;
  /** `HERALD_AUTH_FAILURE_BURST`, default 20: failed authentications an address may have before
   * its requests are refused (429) until it has waited. */
  authFailureBurst: number;
  /** `HERALD_MAX_TOPICS_PER_SUBSCRIPTION`, default 10. */
  maxTopicsPerSubscription: number;
  /** `HERALD_MAX_EVENT_BYTES`, default 65536: the largest event (name and data, UTF-8 bytes). */
  maxEventBytes: number;
  /** `HERALD_MAX_EVENTS_PER_PUBLISH`, default 100: the most events in one publish body. */
  maxEventsPerPublish: number;
  /** `HERALD_PUBLISH_RATE_PER_SECOND`, default 20: publish requests refilled per second per key. */
  publishRatePerSecond: number;
  /** `HERALD_PUBLISH_BURST`, default 40: publish requests a key may make at once. */
  publishBurst: number;
  /** `HERALD_KEEP_ALIVE_MS`, default 15000: a comment on quiet streams this often. */
  keepAliveMs: number;
  /** `HERALD_RETRY_MS`, default 2000: the `retry:` sent to clients. */
  retryMs: number;
  /** `HERALD_MAX_DURATION_MS`, default 0 (none): end streams cleanly after this long. */
  maxDurationMs: number;
  /** `HERALD_HISTORY_MAX_EVENTS`, default 1000: events kept per topic for resume. */
  historyMaxEvents: number;
  /** `HERALD_HISTORY_MAX_AGE_MS`, default 3600000: how long events are kept for resume. */
  historyMaxAgeMs: number;
  /** `HERALD_METRICS_KEY` (32+ characters): when set, `/metrics` needs `Authorization: Bearer`. */
  metricsKey: string | undefined;
  /** `HERALD_DEMO_TOKEN_MS`, default 60: the pause between tokens of the AI answer demo. */
  demoTokenMs: number;
  /** `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`: both set = the Upstash broker. */
  upstash: { url: string; token: string } | undefined;
}

/** Environment variables as a plain record (`Deno.env.toObject()`, `process.env`, Worker env). */
export type Env = Record<string, string | undefined>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function refuse(message: string): ServerError {
  return new ServerError("config-invalid", `${message} (docs/deploy.md lists every setting).`);
}

function invalid(name: string, value: string, expected: string): ServerError {
  return refuse(
    `${name}=${JSON.stringify(value)} is not valid: expected ${expected}. Fix or unset ${name}`,
  );
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max?: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || (max && n > max)) {
    throw invalid(name, value, `a whole number ≥ ${min}${max ? ` and ≤ ${max}` : ""}`);
  }
  return n;
}

function positive(env: Env, name: string, fallback: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw invalid(name, value, "a number > 0");
  return n;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw invalid(name, value, "true or false");
}

function list(env: Env, name: string): string[] {
  return (text(env, name) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** A secret of at least {@link MIN_SECRET_CHARS} characters, never echoed in the error. */
function secret(env: Env, name: string): string | undefined {
  const value = text(env, name);
  if (value !== undefined && value.length < MIN_SECRET_CHARS) {
    throw refuse(
      `${name} is ${value.length} characters long; it must be at least ${MIN_SECRET_CHARS} ` +
        "(e.g. `openssl rand -base64 32`)",
    );
  }
  return value;
}

/** Dev mode: only by name, and only where its public secrets can't reach anyone else. */
function devModeOf(env: Env, host: string): boolean {
  if (!flag(env, "HERALD_DEV_MODE", false)) return false;
  const conflicts = ["HERALD_JWT_SECRET", "HERALD_PUBLISHER_KEYS"].filter((n) => text(env, n));
  if (conflicts.length > 0) {
    throw refuse(
      `HERALD_DEV_MODE=true uses public dev secrets and hands them out, so it refuses to run ` +
        `with ${conflicts.join(" and ")} set: unset ${conflicts.length > 1 ? "them" : "it"} ` +
        "for dev mode, or set HERALD_DEV_MODE=false",
    );
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    throw refuse(
      `HERALD_DEV_MODE=true listens only on loopback, not HOST=${host}: its secrets are public`,
    );
  }
  if (flag(env, "HERALD_TRUST_PROXY", false)) {
    throw refuse(
      "HERALD_DEV_MODE=true refuses HERALD_TRUST_PROXY=true: behind a proxy the dev session " +
        "would hand its secrets to anyone the proxy lets in",
    );
  }
  return true;
}

/**
 * Reads the server's settings from environment variables, applying the defaults. Throws a
 * {@link ServerError} with code `config-invalid` naming the variable at fault.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({
 *   HERALD_JWT_SECRET: "a-random-secret-of-32-characters-or-more",
 *   HERALD_PUBLISHER_KEYS: "a-random-publisher-key-of-32-characters",
 *   HERALD_MAX_EVENT_BYTES: "1024",
 * });
 * assert.equal(config.maxEventBytes, 1024);
 * assert.equal(config.devMode, false);
 * assert.throws(() => loadConfig({}), { code: "config-invalid" }); // no secrets, no dev mode
 * ```
 */
export function loadConfig(env: Env): ServerConfig {
  const host = text(env, "HOST") ?? "127.0.0.1";
  const devMode = devModeOf(env, host);

  const jwtSecret = secret(env, "HERALD_JWT_SECRET") ?? (devMode ? DEV_JWT_SECRET : undefined);
  if (jwtSecret === undefined) {
    throw refuse(
      "HERALD_JWT_SECRET is not set: set it to a random string of at least " +
        `${MIN_SECRET_CHARS} characters (or HERALD_DEV_MODE=true to try the server on this machine)`,
    );
  }
  const publisherKeys = list(env, "HERALD_PUBLISHER_KEYS");
  const short = publisherKeys.findIndex((key) => key.length < MIN_SECRET_CHARS);
  if (short !== -1) {
    throw refuse(
      `Publisher key ${short + 1} of HERALD_PUBLISHER_KEYS is ${publisherKeys[short].length} ` +
        `characters long; each must be at least ${MIN_SECRET_CHARS}`,
    );
  }
  if (publisherKeys.length === 0) {
    if (!devMode) {
      throw refuse(
        "HERALD_PUBLISHER_KEYS is not set: set it to one or more random keys of at least " +
          `${MIN_SECRET_CHARS} characters, comma-separated`,
      );
    }
    publisherKeys.push(DEV_PUBLISHER_KEY);
  }

  const corsOrigins = list(env, "HERALD_CORS_ORIGINS");
  const corsCredentials = flag(env, "HERALD_CORS_CREDENTIALS", false);
  if (corsCredentials && corsOrigins.includes("*")) {
    throw invalid(
      "HERALD_CORS_ORIGINS",
      "*",
      "a list of origins when HERALD_CORS_CREDENTIALS is on (browsers refuse `*` with " +
        "credentials, and it would let any site read your users' streams)",
    );
  }

  const upstashUrl = text(env, "UPSTASH_REDIS_REST_URL");
  const upstashToken = text(env, "UPSTASH_REDIS_REST_TOKEN");
  if ((upstashUrl === undefined) !== (upstashToken === undefined)) {
    throw refuse(
      "Only one of UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN is set: set both to use " +
        "the Upstash broker, or neither for the in-memory broker",
    );
  }

  return {
    host,
    port: integer(env, "PORT", 8000, 0),
    devMode,
    jwtSecret,
    publisherKeys,
    cursorSecret: secret(env, "HERALD_CURSOR_SECRET"),
    tokenCookie: text(env, "HERALD_TOKEN_COOKIE") ?? "herald_token",
    corsOrigins,
    corsCredentials,
    trustProxy: flag(env, "HERALD_TRUST_PROXY", false),
    maxConnectionsPerToken: integer(env, "HERALD_MAX_CONNECTIONS_PER_TOKEN", 5, 1),
    maxConnectionsPerAddress: integer(env, "HERALD_MAX_CONNECTIONS_PER_ADDRESS", 50, 1),
    subscribeRatePerSecond: positive(env, "HERALD_SUBSCRIBE_RATE_PER_SECOND", 1),
    subscribeBurst: integer(env, "HERALD_SUBSCRIBE_BURST", 10, 1),
    addressSubscribeRatePerSecond: positive(env, "HERALD_ADDRESS_SUBSCRIBE_RATE_PER_SECOND", 10),
    addressSubscribeBurst: integer(env, "HERALD_ADDRESS_SUBSCRIBE_BURST", 100, 1),
    authFailureRatePerSecond: positive(env, "HERALD_AUTH_FAILURE_RATE_PER_SECOND", 1),
    authFailureBurst: integer(env, "HERALD_AUTH_FAILURE_BURST", 20, 1),
    maxTopicsPerSubscription: integer(env, "HERALD_MAX_TOPICS_PER_SUBSCRIPTION", 10, 1),
    maxEventBytes: integer(env, "HERALD_MAX_EVENT_BYTES", 65536, 1, MAX_EVENT_BYTES_LIMIT),
    maxEventsPerPublish: integer(env, "HERALD_MAX_EVENTS_PER_PUBLISH", 100, 1),
    publishRatePerSecond: positive(env, "HERALD_PUBLISH_RATE_PER_SECOND", 20),
    publishBurst: integer(env, "HERALD_PUBLISH_BURST", 40, 1),
    keepAliveMs: integer(env, "HERALD_KEEP_ALIVE_MS", 15_000, 100),
    retryMs: integer(env, "HERALD_RETRY_MS", 2000, 0),
    maxDurationMs: integer(env, "HERALD_MAX_DURATION_MS", 0, 0),
    historyMaxEvents: integer(env, "HERALD_HISTORY_MAX_EVENTS", 1000, 1),
    historyMaxAgeMs: integer(env, "HERALD_HISTORY_MAX_AGE_MS", 3_600_000, 1000),
    metricsKey: secret(env, "HERALD_METRICS_KEY"),
    demoTokenMs: integer(env, "HERALD_DEMO_TOKEN_MS", 60, 1),
    upstash: upstashUrl && upstashToken ? { url: upstashUrl, token: upstashToken } : undefined,
  };
}
