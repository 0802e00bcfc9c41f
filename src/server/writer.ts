import type { SSEEvent } from "../protocol/types.ts";
import type { SSECloseReason } from "./close_reason.ts";

/**
 * A map from event name to the type of its data, for typed streams:
 * `sseResponse<{ notification: { text: string } }>(...)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSEEventMap } from "@herald/sse";
 * type Events = { notification: { text: string }; presence: { online: number } } & SSEEventMap;
 * const response = sseResponse<Events>([{ event: "presence", data: { online: 2 } }]);
 * assert.equal(await response.text(), ':\n\nevent: presence\ndata: {"online":2}\n\n');
 * ```
 */
export type SSEEventMap = Record<string, unknown>;

/**
 * The events a stream of `Events` accepts. For the default (untyped) map it is any
 * {@link SSEEvent}; for a map with named events it is one `{ event, data }` pair per name (with
 * optional `id`, `retry`, `comment`), or a block with no event and no data (an id-only or
 * retry-only block, a comment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SSEEventOf } from "@herald/sse";
 * type Events = { tick: { n: number } };
 * const ok: SSEEventOf<Events> = { event: "tick", id: "1", data: { n: 1 } };
 * const bad: SSEEventOf<Events> = {
 *   event: "tick",
 *   // @ts-expect-error: a tick's data is { n: number }, not a string
 *   data: "1",
 * };
 * assert.notDeepEqual(ok, bad);
 * ```
 */
export type SSEEventOf<Events extends SSEEventMap> = string extends keyof Events ? SSEEvent
  :
    | {
      [Name in keyof Events & string]: Omit<SSEEvent, "event" | "data"> & {
        event: Name;
        data: Events[Name];
      };
    }[keyof Events & string]
    | (Omit<SSEEvent, "event" | "data"> & { event?: never; data?: never });

/**
 * What a function source gets: a writer onto one client's connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSEWriter } from "@herald/sse";
 * async function ticks(stream: SSEWriter) {
 *   for (let n = 1; n <= 3 && !stream.signal.aborted; n++) {
 *     await stream.send({ event: "tick", id: String(n), data: { n } });
 *   }
 * }
 * const response = sseResponse(ticks);
 * assert.equal(
 *   await response.text(),
 *   ":\n\nevent: tick\nid: 1\ndata: {\"n\":1}\n\nevent: tick\nid: 2\ndata: {\"n\":2}\n\n" +
 *     "event: tick\nid: 3\ndata: {\"n\":3}\n\n",
 * );
 * ```
 */
export interface SSEWriter<Event = SSEEvent> {
  /**
   * Queues one event. Resolves once the event is accepted into this connection's bounded queue:
   * at once while the queue is less than half full, else when the network next takes what is
   * queued (so `await send()` is backpressure, and the other half of the queue absorbs bursts).
   * An event that does not fit at all applies the queue policy (`"close"`: the stream closes as
   * `slow-client`; `"drop-oldest"`: older events make room). Rejects with
   * {@link SSEEncodeError} if the event is invalid (nothing is written; the connection and the
   * other events are unharmed), or with {@link SSECloseError} if the stream is closed (or closes
   * abruptly before the event is written). The returned promise never causes an unhandled
   * rejection: a refused event also goes to the logger, so a `send` nobody awaits is not lost.
   */
  send(event: Event): Promise<void>;
  /** Queues a comment (ignored by clients; keeps proxies and idle timers awake). */
  comment(text?: string): Promise<void>;
  /** Ends the stream cleanly (reason `producer-done`) once what is queued has been written. */
  close(): void;
  /** Aborts when the stream closes; `signal.reason` is an {@link SSECloseError} whose `code` says why. */
  readonly signal: AbortSignal;
  /** Resolves with the close reason when the stream closes. */
  readonly closed: Promise<SSECloseReason>;
  /** The `Last-Event-ID` the client sent with `options.request`, if any: where to resume from. */
  readonly lastEventId: string | undefined;
}

/**
 * What `sseResponse` streams from: an async iterable or a `ReadableStream` of events (read only as
 * the queue has room, cancelled when the stream closes), a plain iterable, or a function that gets
 * a {@link SSEWriter}. A function that returns a promise ends the stream when the promise settles;
 * one that returns nothing keeps it open until it calls `close()` or the client leaves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSESource } from "@herald/sse";
 * const source: SSESource = async function* () {
 *   yield { data: "one" };
 *   yield { data: "two" };
 * }();
 * assert.equal(await sseResponse(source).text(), ":\n\ndata: one\n\ndata: two\n\n");
 * ```
 */
export type SSESource<Event = SSEEvent> =
  | ReadableStream<Event>
  | AsyncIterable<Event>
  | Iterable<Event>
  | ((stream: SSEWriter<Event>) => void | Promise<void>);
