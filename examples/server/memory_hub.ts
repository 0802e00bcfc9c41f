import { createHub, type Hub, MemoryBroker } from "@herald/sse";
import type { ServerConfig } from "./config.ts";

/**
 * The hub of the default setup: the in-memory broker, one isolate, history bounded by
 * `HERALD_HISTORY_MAX_EVENTS` and `HERALD_HISTORY_MAX_AGE_MS`, cursors signed with
 * `cursorSecret` (see cursor_secret.ts). A restart loses the history; the broker's new epoch makes
 * resuming clients get a `herald.history-lost` event, never silence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { memoryHub } from "./memory_hub.ts";
 * const hub = memoryHub(loadConfig({ HERALD_DEV_MODE: "true" }), "a-cursor-secret-of-32-characters!!");
 * const ids = await hub.publish("demo", { data: "hi" });
 * assert.equal(ids.length, 1);
 * ```
 */
export function memoryHub(config: ServerConfig, cursorSecret: string): Hub {
  return createHub({
    broker: new MemoryBroker({
      maxEventsPerTopic: config.historyMaxEvents,
      maxAgeMs: config.historyMaxAgeMs,
    }),
    maxTopicsPerSubscription: config.maxTopicsPerSubscription,
    cursorSecret,
  });
}
