// The in-band event that says history was lost. Documented in docs/hub.md; its name and fields
// are part of the public protocol.

/** The `event:` name of the history-lost event. */
export const HISTORY_LOST_EVENT = "herald.history-lost";

/**
 * The data (JSON) of a `herald.history-lost` event: one per topic whose history since the
 * client's cursor is no longer complete. It comes before any event of that topic.
 *
 * - `reason`: `"trimmed"` (history was trimmed by length or age, or expired) or `"reset"` (the
 *   broker's store was reset: the cursor's epoch is not the broker's).
 * - `requested`: the position the client's cursor held for the topic.
 * - `resumedFrom`: the position of the first event delivered after the gap, or `null` when none
 *   is retained yet (delivery continues with the next published event).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, HISTORY_LOST_EVENT, type HistoryLost, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 1 }) });
 * const fresh = (await hub.subscribe({ topics: ["news"] })).getReader();
 * const cursor = (await fresh.read()).value!.id;
 * await fresh.cancel();
 * await hub.publish("news", [{ data: "a" }, { data: "b" }]); // "a" is trimmed at once
 * const resumed = (await hub.subscribe({ topics: ["news"], lastEventId: cursor })).getReader();
 * const first = (await resumed.read()).value!;
 * assert.equal(first.event, HISTORY_LOST_EVENT);
 * assert.equal((first.data as HistoryLost).reason, "trimmed");
 * assert.equal((await resumed.read()).value!.data, "b");
 * await resumed.cancel();
 * ```
 */
export interface HistoryLost {
  topic: string;
  reason: "trimmed" | "reset";
  requested: string;
  resumedFrom: string | null;
}
