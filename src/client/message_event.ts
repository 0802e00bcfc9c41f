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
 * import { createMessageEvent } from "./message_event.ts";
 * const event = createMessageEvent("tick", { data: "1", origin: "http://a", lastEventId: "1" });
 * console.log(event.type, event.data); // "tick 1"
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
 * import { EventSource, SSEClientErrorEvent } from "@herald/sse";
 * const source = new EventSource("http://127.0.0.1:8000/events");
 * source.onerror = (event) => {
 *   if (event instanceof SSEClientErrorEvent) console.log(event.error.code, source.readyState);
 * };
 * source.close();
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
