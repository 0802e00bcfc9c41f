import { createHub, type Hub, MemoryBroker } from "../../mod.ts";
import type { ServerConfig } from "./config.ts";

/**
 * The hub of the default setup: the in-memory broker, one isolate, history bounded by
 * `HERALD_HISTORY_MAX_EVENTS` and `HERALD_HISTORY_MAX_AGE_MS`. A restart loses the history; the
 * broker's new epoch makes resuming clients get a `herald.history-lost` event, never silence.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import { memoryHub } from "./memory_hub.ts";
 * const hub = memoryHub(loadConfig({}));
 * console.log(await hub.publish("demo", { data: "hi" })); // ["<ms>-0"]
 * ```
 */
export function memoryHub(config: ServerConfig): Hub {
  return createHub({
    broker: new MemoryBroker({
      maxEventsPerTopic: config.historyMaxEvents,
      maxAgeMs: config.historyMaxAgeMs,
    }),
    maxTopicsPerSubscription: config.maxTopicsPerSubscription,
  });
}
