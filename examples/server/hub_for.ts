import type { Hub } from "@herald/sse";
import type { ServerConfig } from "./config.ts";
import { cursorSecretFor } from "./cursor_secret.ts";
import { memoryHub } from "./memory_hub.ts";
import { upstashHub } from "./upstash_hub.ts";

/**
 * The hub the config asks for: the Upstash broker when `UPSTASH_REDIS_REST_URL` and
 * `UPSTASH_REDIS_REST_TOKEN` are set, the in-memory broker otherwise; either way signing cursors
 * (`HERALD_CURSOR_SECRET`, or a key derived from `HERALD_JWT_SECRET`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { hubFor } from "./hub_for.ts";
 * const { brokerName } = await hubFor(loadConfig({ HERALD_DEV_MODE: "true" }));
 * assert.equal(brokerName, "memory");
 * ```
 */
export async function hubFor(
  config: ServerConfig,
): Promise<{ hub: Hub; brokerName: "memory" | "upstash" }> {
  const cursorSecret = await cursorSecretFor(config);
  if (config.upstash) return { hub: upstashHub(config, cursorSecret), brokerName: "upstash" };
  return { hub: memoryHub(config, cursorSecret), brokerName: "memory" };
}
