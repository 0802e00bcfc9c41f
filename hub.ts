/**
 * The topic hub (`@herald/sse/hub`): `createHub` publishes to topics and answers subscribers
 * with exact resume (every event's `id:` is a cursor over all of a subscription's topics, so a
 * reconnecting `EventSource` continues where it stopped, and a cursor older than the retained
 * history gets a `herald.history-lost` event instead of a silent gap). `MemoryBroker` keeps one
 * isolate's topics; `UpstashBroker` (`@herald/sse/upstash`) shares them across isolates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse/hub";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const controller = new AbortController();
 * const events = await hub.subscribe({ topics: ["news"], signal: controller.signal });
 * await hub.publish("news", { event: "headline", data: { title: "Hello" } });
 * const reader = events.getReader();
 * const start = (await reader.read()).value; // an id-only block: the cursor to start from
 * const { value } = await reader.read();
 * assert.equal(value?.event, "headline");
 * assert.deepEqual(value?.data, { title: "Hello" });
 * assert.notEqual(value?.id, start?.id); // each event's id is the cursor after it
 * controller.abort();
 * ```
 * @module
 */
export {
  createHub,
  DEFAULT_PRESENCE_INTERVAL_MS,
  type Hub,
  type HubOptions,
  MAX_CANCEL_REASON_LENGTH,
  type SubscribeOptions,
} from "./src/hub/hub.ts";
export type { DeliveryInfo, HubResponseOptions } from "./src/hub/hub_options.ts";
export {
  DEFAULT_COALESCE_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_STREAM_TTL_MS,
  type StartedStream,
  type StreamEventOf,
  type StreamOptions,
  type StreamWrite,
  type StreamWriter,
} from "./src/hub/stream_options.ts";
export { STREAM_END_EVENT, type StreamEnd } from "./src/hub/stream_end.ts";
export { MemoryBroker, type MemoryBrokerOptions } from "./src/hub/memory_broker.ts";
export type { Broker, HubEvent, StreamBroker } from "./src/hub/broker.ts";
export {
  BrokerError,
  type BrokerErrorCode,
  HubCursorError,
  type HubCursorErrorCode,
  HubEventError,
  type HubEventErrorCode,
  HubStreamError,
  type HubStreamErrorCode,
  HubTopicError,
  type HubTopicErrorCode,
} from "./src/hub/errors.ts";
export { HISTORY_LOST_EVENT, type HistoryLost } from "./src/hub/history_lost.ts";
export { DEFAULT_MAX_TOPICS_PER_SUBSCRIPTION, MAX_TOPIC_LENGTH } from "./src/hub/topics.ts";
export {
  ModelStreamError,
  type ModelStreamErrorCode,
  type ModelStreamEvent,
  type ModelStreamFormat,
  type ModelStreamOutput,
  type ModelStreamResult,
  type ModelTokenEvent,
  relayModelStream,
  type RelayModelStreamOptions,
} from "./src/hub/relay_model_stream.ts";
