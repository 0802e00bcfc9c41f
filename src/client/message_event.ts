import type { SSEClientError } from "./client_errors.ts";

/** What {@link createMessageEvent} needs: the fields of a `MessageEvent` an EventSource sets. */
export interface MessageEventFields {
  data: string;
  origin: string;
  lastEventId: string;
}

/**
 * A stand-in for `MessageEvent` on a runtime without one. Deno 2.9, Bun 1.4 and workerd have the
 * global; Vercel's Edge runtime (as the edge-runtime package emulates it) does not.
 */
class HeraldMessageEvent extends Event {
  readonly data: string;
  readonly origin: string;
  readonly lastEventId: string;
  readonly source = null;
  readonly ports: readonly unknown[] = [];

  constructor(type: string, fields: MessageEventFields) {
    super(type);
    this.data = fields.data;
    this.origin = fields.origin;
    this.lastEventId = fields.lastEventId;
  }
}

/**
 * Creates the event an EventSource dispatches for one message: the runtime's `MessageEvent`
 * where there is one, else an `Event` with the same fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMessageEvent } from "./message_event.ts";
 * const event = createMessageEvent("tick", { data: "1", origin: "http://a", lastEventId: "1" });
 * assert.deepEqual([event.type, event.data, event.origin, event.lastEventId], [
 *   "tick",
 *   "1",
 *   "http://a",
 *   "1",
 * ]);
 * ```
 */
export function createMessageEvent(type: string, fields: MessageEventFields): MessageEvent {
  if (typeof MessageEvent === "function") return new MessageEvent(type, fields);
  return new HeraldMessageEvent(type, fields) as unknown as MessageEvent;
}

/**
 * The `error` event of Herald's EventSource: a plain `Event` as browsers fire, plus the
 * {@link SSEClientError} saying why (`readyState` says whether a reconnection follows).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventSource, SSEClientErrorEvent } from "@herald/sse";
 * // A server that answers 403 (the `fetch` option stands in for the network).
 * const fetch = () => Promise.resolve(new Response("forbidden", { status: 403 }));
 * const source = new EventSource("http://127.0.0.1:8000/events", { fetch });
 * const failed = Promise.withResolvers<Event>();
 * source.onerror = (event) => failed.resolve(event);
 * const event = await failed.promise;
 * assert.ok(event instanceof SSEClientErrorEvent);
 * assert.equal(event.error.code, "http-status");
 * assert.equal(source.readyState, EventSource.CLOSED); // a 4xx is not retried
 * ```
 */
export class SSEClientErrorEvent extends Event {
  /** Why the connection failed or is reconnecting. */
  readonly error: SSEClientError;

  constructor(error: SSEClientError) {
    super("error");
    this.error = error;
  }
}
