/**
 * What a broker author needs (`@herald/sse/broker`): the {@link Broker} contract between the hub
 * and a store of topics, the shapes it reads and writes, `BrokerError` for a store that fails,
 * and `comparePositions`, the order of positions the hub relies on. A position is a Redis stream
 * id, `<ms>-<seq>` in decimal without leading zeros (`0-0` before the first event); a broker that
 * keeps its own log filters "strictly after" with exactly this order, or the hub skips or repeats
 * events. `MemoryBroker` (in `@herald/sse/hub`) is a complete example.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Broker, comparePositions } from "@herald/sse/broker";
 * import { MemoryBroker } from "@herald/sse/hub";
 * const broker: Broker = new MemoryBroker();
 * const [first, second] = await broker.publish("news", [{ data: "a" }, { data: "b" }]);
 * assert.ok(comparePositions(first, second) < 0);
 * const read = await broker.read([{ topic: "news", after: first }], 10);
 * assert.deepEqual(read.topics[0].entries, [{ id: second, event: { data: "b" } }]);
 * ```
 * @module
 */
export type {
  Broker,
  BrokerEntry,
  BrokerListener,
  BrokerRead,
  CancelWatcher,
  HubEvent,
  PresenceTouch,
  StreamAppend,
  StreamAppendOptions,
  StreamBroker,
  StreamClaim,
  StreamClaimOptions,
  TopicRead,
} from "./src/hub/broker.ts";
export { BrokerError, type BrokerErrorCode } from "./src/hub/errors.ts";
export { comparePositions } from "./src/hub/position.ts";
export { STREAM_END_EVENT, type StreamEnd } from "./src/hub/stream_end.ts";
