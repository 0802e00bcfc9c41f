/**
 * A hub broker on Upstash Redis over REST (`@herald/sse/upstash`): one Redis stream per topic,
 * an atomic publish, exact replay, live delivery by Upstash's subscribe stream or polling. Takes
 * an `@upstash/redis` `Redis` instance (`@upstash/redis` is a peer dependency). What it costs in
 * commands is listed in docs/hub.md.
 *
 * @example
 * ```ts ignore
 * import { Redis } from "@upstash/redis";
 * import { createHub } from "@herald/sse";
 * import { UpstashBroker } from "@herald/sse/upstash";
 * const hub = createHub({ broker: new UpstashBroker({ redis: Redis.fromEnv() }) });
 * await hub.publish("news", { event: "headline", data: { title: "Hello" } });
 * ```
 * @module
 */
export {
  type FeedStats,
  type LiveMode,
  UpstashBroker,
  type UpstashBrokerOptions,
} from "./src/adapters/upstash.ts";
