import { CLOSED, CONNECTING, ConnectionLoop, OPEN, type ReadyState } from "./connection_loop.ts";
import { dispatchCallsHandlerProperties } from "./handler_properties.ts";
import { createMessageEvent, SSEClientErrorEvent } from "./message_event.ts";
import type { ConnectOptions } from "./options.ts";

/**
 * The second argument of Herald's {@link EventSource}: the standard `withCredentials`, plus every
 * option of {@link connect} (headers, method and body, retry policy, idle timeout, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventSource, type EventSourceOptions } from "@herald/sse";
 * const options: EventSourceOptions = { headers: { authorization: "Bearer t" }, maxRetries: 10 };
 * const source = new EventSource("http://127.0.0.1:8000/events", options);
 * assert.equal(source.withCredentials, false);
 * source.close();
 * ```
 */
export interface EventSourceOptions extends ConnectOptions {
  /** Sends cookies cross-origin (fetch `credentials: "include"`), as the standard option. */
  withCredentials?: boolean;
}

type Handler<E extends Event> = ((this: EventSource, event: E) => unknown) | null;
type HandlerType = "open" | "message" | "error";

/**
 * The WHATWG `EventSource` interface on `fetch`, for runtimes that have none (Workers, Bun) and for
 * code that needs headers, a POST body, a retry policy or an idle timeout. Events are
 * `MessageEvent`s with `data`, `origin` and `lastEventId`; named events go to
 * `addEventListener(name, ...)`; `error` events carry the {@link SSEClientError} (see
 * {@link SSEClientErrorEvent}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventSource, sseResponse } from "@herald/sse";
 * // A server's response through the `fetch` option; leave it out to use the network.
 * const fetch = () =>
 *   Promise.resolve(sseResponse([{ id: "1", data: "hello" }, { event: "tick", data: 2 }]));
 * const source = new EventSource("http://127.0.0.1:8000/events", {
 *   headers: () => ({ authorization: "Bearer token" }),
 *   fetch,
 * });
 * const seen: string[] = [];
 * const done = Promise.withResolvers<void>();
 * source.onmessage = (event) => seen.push(`${event.data} (id ${event.lastEventId})`);
 * source.addEventListener("tick", (event) => {
 *   seen.push(`tick ${(event as MessageEvent).data}`);
 *   source.close();
 *   done.resolve();
 * });
 * await done.promise;
 * assert.deepEqual(seen, ["hello (id 1)", "tick 2"]);
 * ```
 */
export class EventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;

  /** The absolute URL of the stream. */
  readonly url: string;
  /** Whether cookies are sent cross-origin. */
  readonly withCredentials: boolean;
  readonly #loop: ConnectionLoop;
  readonly #handlers = new Map<HandlerType, { fn: Handler<Event>; listener: EventListener }>();

  constructor(url: string | URL, options: EventSourceOptions = {}) {
    super();
    const { withCredentials = false, ...rest } = options;
    this.withCredentials = withCredentials;
    if (withCredentials && rest.credentials === undefined) rest.credentials = "include";
    this.#loop = new ConnectionLoop(url, rest, {
      open: () => this.dispatchEvent(new Event("open")),
      message: (message, origin) => {
        this.dispatchEvent(
          createMessageEvent(message.event, {
            data: message.data,
            origin,
            lastEventId: message.lastEventId,
          }),
        );
      },
      error: (error) => this.dispatchEvent(new SSEClientErrorEvent(error)),
      closed: () => {},
    });
    this.url = this.#loop.url;
  }

  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  get readyState(): ReadyState {
    return this.#loop.readyState;
  }

  /** The last event ID (not in the standard interface): what a reconnection sends. */
  get lastEventId(): string {
    return this.#loop.lastEventId;
  }

  /** Closes for good; no event is dispatched afterwards. */
  close(): void {
    this.#loop.close();
  }

  get onopen(): Handler<Event> {
    return this.#handler("open");
  }
  set onopen(fn: Handler<Event>) {
    this.#setHandler("open", fn);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.#handler("message") as Handler<MessageEvent>;
  }
  set onmessage(fn: Handler<MessageEvent>) {
    this.#setHandler("message", fn as Handler<Event>);
  }
  get onerror(): Handler<SSEClientErrorEvent> {
    return this.#handler("error") as Handler<SSEClientErrorEvent>;
  }
  set onerror(fn: Handler<SSEClientErrorEvent>) {
    this.#setHandler("error", fn as Handler<Event>);
  }

  #handler(type: HandlerType): Handler<Event> {
    return this.#handlers.get(type)?.fn ?? null;
  }

  // As the HTML event handler attributes: the listener takes its place among the others when
  // first set, keeps it when replaced, and leaves when set to null.
  #setHandler(type: HandlerType, fn: Handler<Event>): void {
    const current = this.#handlers.get(type);
    if (typeof fn !== "function") {
      if (current) this.removeEventListener(type, current.listener); // a no-op if never added
      this.#handlers.delete(type);
      return;
    }
    if (current) {
      current.fn = fn;
      return;
    }
    if (dispatchCallsHandlerProperties()) {
      // The runtime (workerd) calls `on<type>` itself on dispatch: store it, add no listener.
      this.#handlers.set(type, { fn, listener: () => {} });
      return;
    }
    const entry = {
      fn,
      listener: (event: Event) => entry.fn?.call(this, event),
    };
    this.#handlers.set(type, entry);
    this.addEventListener(type, entry.listener);
  }
}
