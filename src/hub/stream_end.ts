// The in-band, durable end of a resumable stream: the last event of every stream's topic. Its name
// and fields are part of the public protocol (docs/streams.md).

/** The `event:` name of a stream's last event. */
export const STREAM_END_EVENT = "herald.end";

/**
 * How a stream ended: the data (JSON) of its `herald.end` event, the last event of its topic.
 *
 * - `done`: the producer returned.
 * - `error`: the producer threw; `message` is safe to show (the error itself went to the
 *   server's logger).
 * - `cancelled`: `hub.cancelStream` was called (`reason` is what it was given), or nobody was
 *   watching for `idleCancelMs` (`reason` is `"unwatched"`).
 * - `lost`: the producer stopped renewing its lease without ending the stream (its process
 *   died or stalled); whoever noticed wrote this end, and the producer can write no more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker, STREAM_END_EVENT, type StreamEnd } from "@herald/sse/hub";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const { cursor } = await hub.startStream("answer:1", async (out) => {
 *   await out.write("Hello");
 * });
 * const events = await Array.fromAsync(await hub.subscribe({
 *   topics: ["answer:1"],
 *   lastEventId: cursor,
 * }));
 * assert.deepEqual(events.map((e) => e.data), ["Hello", { status: "done" }]);
 * const end = events[1];
 * assert.equal(end.event, STREAM_END_EVENT);
 * assert.equal((end.data as StreamEnd).status, "done");
 * ```
 */
export interface StreamEnd {
  status: "done" | "error" | "cancelled" | "lost";
  /** Why a stream was cancelled. */
  reason?: string;
  /** A message safe to show a reader (for `error`). */
  message?: string;
}

/**
 * The event a broker appends to end a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamEndEvent } from "./stream_end.ts";
 * assert.deepEqual(streamEndEvent({ status: "lost" }), {
 *   event: "herald.end",
 *   data: { status: "lost" },
 * });
 * ```
 */
export function streamEndEvent(end: StreamEnd): { event: string; data: StreamEnd } {
  return { event: STREAM_END_EVENT, data: end };
}
