import { Redis } from "@upstash/redis";
import { createHub, type Hub } from "@herald/sse";
import { UpstashBroker } from "@herald/sse/upstash";
import type { ServerConfig } from "./config.ts";

/**
 * The hub on Upstash Redis, when `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set:
 * history survives restarts and is shared by every instance, so a client resumes exactly on any
 * of them (every instance signs cursors with the same `cursorSecret`). On Workers the broker opens
 * its live feed per request (I/O can't cross requests); on Deno and Bun one feed per process
 * serves every subscriber.
 *
 * @example
 * ```ts ignore
 * import { loadConfig } from "./config.ts";
 * import { upstashHub } from "./upstash_hub.ts";
 * const hub = upstashHub(
 *   loadConfig({
 *     HERALD_DEV_MODE: "true",
 *     UPSTASH_REDIS_REST_URL: "https://…",
 *     UPSTASH_REDIS_REST_TOKEN: "…",
 *   }),
 *   "a-cursor-secret-of-32-characters!!",
 * );
 * ```
 */
export function upstashHub(config: ServerConfig, cursorSecret: string): Hub {
  if (!config.upstash) throw new TypeError("upstashHub needs UPSTASH_REDIS_REST_URL and _TOKEN.");
  const redis = new Redis({ url: config.upstash.url, token: config.upstash.token });
  return createHub({
    broker: new UpstashBroker({
      redis,
      maxEventsPerTopic: config.historyMaxEvents,
      maxAgeMs: config.historyMaxAgeMs,
    }),
    maxTopicsPerSubscription: config.maxTopicsPerSubscription,
    cursorSecret,
  });
}
