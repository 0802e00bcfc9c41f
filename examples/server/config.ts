// Settings of the reference server, read from environment variables. Every variable has a safe
// default; the two secrets have development defaults only in dev mode (loopback), so a server
// exposed to a network refuses to start with a secret anyone can read in this file.
import { ServerError } from "./errors.ts";

/** The JWT secret used in dev mode when `HERALD_JWT_SECRET` is unset. Never use it in production. */
export const DEV_JWT_SECRET = "herald-dev-secret-do-not-use-in-production";
/** The publisher key used in dev mode when `HERALD_PUBLISHER_KEYS` is unset. */
export const DEV_PUBLISHER_KEY = "herald-dev-publisher-key";

/** The shortest JWT secret accepted: HS256 wants at least 256 bits of key. */
export const MIN_JWT_SECRET_CHARS = 32;

/**
 * The reference server's settings. See the README section "Reference server" for the variable
 * behind each field and its default.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ PORT: "9000" });
 * console.log(config.port, config.devMode); // 9000 true
 * ```
 */
export interface ServerConfig {
  /** `HOST`, default `127.0.0.1`. */
  host: string;
  /** `PORT`, default `8000`. */
  port: number;
  /** `HERALD_DEV_MODE`: `auto` (default) is on when `HOST` is a loopback address. */
  devMode: boolean;
  /** `HERALD_JWT_SECRET`: HMAC key of subscriber tokens (HS256). */
  jwtSecret: string;
  /** `HERALD_PUBLISHER_KEYS`: comma-separated keys accepted as `Authorization: Bearer <key>`. */
  publisherKeys: string[];
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
  /** `HERALD_MAX_TOPICS_PER_SUBSCRIPTION`, default 10. */
  maxTopicsPerSubscription: number;
  /** `HERALD_MAX_EVENT_BYTES`, default 65536: the largest event `data` (UTF-8 bytes). */
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
  /** `HERALD_METRICS_KEY`: when set, `/metrics` needs `Authorization: Bearer <key>`. */
  metricsKey: string | undefined;
  /** `HERALD_DEMO_TOKEN_MS`, default 60: the pause between tokens of the AI answer demo. */
  demoTokenMs: number;
  /** `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`: both set = the Upstash broker. */
  upstash: { url: string; token: string } | undefined;
}

/** Environment variables as a plain record (`Deno.env.toObject()`, `process.env`, Worker env). */
export type Env = Record<string, string | undefined>;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function invalid(name: string, value: string, expected: string): ServerError {
  return new ServerError(
    "config-invalid",
    `${name}=${JSON.stringify(value)} is not valid: expected ${expected}. ` +
      `Fix or unset ${name} (see the README section "Reference server").`,
  );
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw invalid(name, value, `a whole number ≥ ${min}`);
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

/**
 * Reads the server's settings from environment variables, applying the defaults. Throws a
 * {@link ServerError} with code `config-invalid` naming the variable at fault.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ HOST: "127.0.0.1", HERALD_MAX_EVENT_BYTES: "1024" });
 * console.log(config.maxEventBytes); // 1024
 * ```
 */
export function loadConfig(env: Env): ServerConfig {
  const host = text(env, "HOST") ?? "127.0.0.1";
  const devModeText = text(env, "HERALD_DEV_MODE")?.toLowerCase() ?? "auto";
  const devMode = devModeText === "auto"
    ? LOOPBACK_HOSTS.has(host)
    : flag(env, "HERALD_DEV_MODE", false);

  const jwtSecret = text(env, "HERALD_JWT_SECRET") ?? (devMode ? DEV_JWT_SECRET : undefined);
  if (jwtSecret === undefined) {
    throw new ServerError(
      "config-invalid",
      "HERALD_JWT_SECRET is not set and dev mode is off (HERALD_DEV_MODE, or a HOST that is " +
        `not loopback): set it to a random string of at least ${MIN_JWT_SECRET_CHARS} characters.`,
    );
  }
  if (jwtSecret.length < MIN_JWT_SECRET_CHARS) {
    throw invalid("HERALD_JWT_SECRET", "…", `at least ${MIN_JWT_SECRET_CHARS} characters`);
  }
  const publisherKeys = list(env, "HERALD_PUBLISHER_KEYS");
  if (publisherKeys.length === 0) {
    if (!devMode) {
      throw new ServerError(
        "config-invalid",
        "HERALD_PUBLISHER_KEYS is not set and dev mode is off (HERALD_DEV_MODE, or a HOST that " +
          "is not loopback): set it to one or more random keys, comma-separated.",
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
    throw new ServerError(
      "config-invalid",
      "Only one of UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN is set: set both to use " +
        "the Upstash broker, or neither for the in-memory broker.",
    );
  }

  return {
    host,
    port: integer(env, "PORT", 8000, 0),
    devMode,
    jwtSecret,
    publisherKeys,
    tokenCookie: text(env, "HERALD_TOKEN_COOKIE") ?? "herald_token",
    corsOrigins,
    corsCredentials,
    trustProxy: flag(env, "HERALD_TRUST_PROXY", false),
    maxConnectionsPerToken: integer(env, "HERALD_MAX_CONNECTIONS_PER_TOKEN", 5, 1),
    maxConnectionsPerAddress: integer(env, "HERALD_MAX_CONNECTIONS_PER_ADDRESS", 50, 1),
    maxTopicsPerSubscription: integer(env, "HERALD_MAX_TOPICS_PER_SUBSCRIPTION", 10, 1),
    maxEventBytes: integer(env, "HERALD_MAX_EVENT_BYTES", 65536, 1),
    maxEventsPerPublish: integer(env, "HERALD_MAX_EVENTS_PER_PUBLISH", 100, 1),
    publishRatePerSecond: positive(env, "HERALD_PUBLISH_RATE_PER_SECOND", 20),
    publishBurst: integer(env, "HERALD_PUBLISH_BURST", 40, 1),
    keepAliveMs: integer(env, "HERALD_KEEP_ALIVE_MS", 15_000, 100),
    retryMs: integer(env, "HERALD_RETRY_MS", 2000, 0),
    maxDurationMs: integer(env, "HERALD_MAX_DURATION_MS", 0, 0),
    historyMaxEvents: integer(env, "HERALD_HISTORY_MAX_EVENTS", 1000, 1),
    historyMaxAgeMs: integer(env, "HERALD_HISTORY_MAX_AGE_MS", 3_600_000, 1000),
    metricsKey: text(env, "HERALD_METRICS_KEY"),
    demoTokenMs: integer(env, "HERALD_DEMO_TOKEN_MS", 60, 1),
    upstash: upstashUrl && upstashToken ? { url: upstashUrl, token: upstashToken } : undefined,
  };
}
