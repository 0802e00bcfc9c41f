import type { Hub } from "../../mod.ts";
import type { ServerConfig } from "./config.ts";
import { memoryHub } from "./memory_hub.ts";
import { upstashHub } from "./upstash_hub.ts";

/**
 * The hub the config asks for: the Upstash broker when `UPSTASH_REDIS_REST_URL` and
 * `UPSTASH_REDIS_REST_TOKEN` are set, the in-memory broker otherwise.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import { hubFor } from "./hub_for.ts";
 * console.log(hubFor(loadConfig({})).brokerName); // "memory"
 * ```
 */
export function hubFor(config: ServerConfig): { hub: Hub; brokerName: "memory" | "upstash" } {
  if (config.upstash) return { hub: upstashHub(config), brokerName: "upstash" };
  return { hub: memoryHub(config), brokerName: "memory" };
}
