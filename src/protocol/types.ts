/**
 * One event to write on the wire. Every field is optional; a message with none of them is a
 * lone blank line, which a client ignores.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEvent, type SSEEvent } from "@herald/sse";
 * const event: SSEEvent = { event: "tick", id: "7", data: { n: 7 } };
 * assert.equal(encodeEvent(event), 'event: tick\nid: 7\ndata: {"n":7}\n\n');
 * ```
 */
export interface SSEEvent<Data = unknown> {
  /** A string goes out verbatim (split into one `data:` line per line); anything else as JSON. */
  data?: Data;
  /** The event type; a client dispatches it to listeners of this name. No CR or LF. */
  event?: string;
  /** Sets the client's last event ID. `""` resets it. No CR, LF or NUL. */
  id?: string;
  /** Tells the client how long to wait before reconnecting, in milliseconds. */
  retry?: number;
  /** A comment line (or lines): ignored by clients, keeps proxies and idle timers awake. */
  comment?: string;
}

/**
 * One event as a client dispatches it, with the spec's semantics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createParser, type SSEMessage } from "@herald/sse";
 * const seen: SSEMessage[] = [];
 * createParser({ onEvent: (m) => seen.push(m) }).feed("id: 1\ndata: hi\n\n");
 * assert.deepEqual(seen, [{ event: "message", data: "hi", id: "1", lastEventId: "1" }]);
 * ```
 */
export interface SSEMessage {
  /** The event type: `"message"` when the block had no (or an empty) `event` field. */
  event: string;
  /** The data lines of the block joined with LF. */
  data: string;
  /** The block's own `id` field, or `undefined` when the block had none. */
  id: string | undefined;
  /** The spec's last event ID: sticky across events, set by id-only blocks too. */
  lastEventId: string;
}
