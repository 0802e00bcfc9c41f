// Counts the events a subscription hands to its connection, and how long after their publish.
// The publish time is read from the cursor (the event's id): the hub's positions are
// `<ms>-<seq>` like Redis stream ids, and an event's own position is the one its id changed.
import { HISTORY_LOST_EVENT, type SSEEvent } from "../../mod.ts";
import type { Metrics } from "./metrics.ts";

/**
 * The millisecond part of each position in a hub cursor
 * (`h1.<epoch>.<tag>.<pos>.<pos>...[~<signature>]`, positions `<ms36>[-<seq36>]`), or
 * `undefined` when `id` is not such a cursor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cursorPositions } from "./delivery_meter.ts";
 * assert.deepEqual(cursorPositions("h1.e1.t.10.20-1"), ["10", "20-1"]);
 * ```
 */
export function cursorPositions(id: string | undefined): string[] | undefined {
  if (!id) return undefined;
  const parts = id.split("~")[0].split(".");
  if (parts.length < 4 || !parts[0].startsWith("h")) return undefined;
  return parts.slice(3);
}

function positionMs(part: string): number {
  return parseInt(part.split("-")[0], 36);
}

/**
 * Wraps a hub subscription so that every event handed to the connection is counted in
 * `metrics`, with its delivery lag when it was published after the subscription started (older
 * events are replays: their age is not a lag). Pull-based, like the hub's stream, so on Workers
 * every read happens in the request that owns the stream; cancelling it cancels the hub's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meterDeliveries } from "./delivery_meter.ts";
 * import { Metrics } from "./metrics.ts";
 * const metrics = new Metrics();
 * const source = ReadableStream.from([{ id: "h1.e.t.0" }, { id: "h1.e.t.1", data: "x" }]);
 * for await (const _ of meterDeliveries(source, metrics, { lastEventId: undefined })) { /* … *\/ }
 * assert.equal(metrics.delivered, 1);
 * ```
 */
export function meterDeliveries(
  source: ReadableStream<SSEEvent>,
  metrics: Metrics,
  options: { lastEventId: string | undefined; now?: () => number },
): ReadableStream<SSEEvent> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  let previous = cursorPositions(options.lastEventId);
  const reader = source.getReader();
  return new ReadableStream<SSEEvent>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const positions = cursorPositions(value.id);
      if (value.data !== undefined && value.event !== HISTORY_LOST_EVENT) {
        let publishedMs: number | undefined;
        positions?.forEach((part, i) => {
          if (previous?.[i] !== part) publishedMs = Math.max(publishedMs ?? 0, positionMs(part));
        });
        const lagMs = publishedMs !== undefined && publishedMs >= startedMs
          ? now() - publishedMs
          : undefined;
        metrics.eventDelivered(lagMs);
      }
      if (positions) previous = positions;
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
