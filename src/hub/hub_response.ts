// hub.response: read the client's cursor from the request, subscribe, and answer with an event
// stream; refused topics or cursors answer 400 with a message that says what to do.
import { connectionResponse, openConnection } from "../server/open_connection.ts";
import { sseResponse } from "../server/response.ts";
import { BrokerError, HubCursorError, HubTopicError } from "./errors.ts";
import type { DeliveryInfo, HubResponseOptions, SubscribeOptions } from "./hub_options.ts";
import type { Subscription } from "./subscription.ts";

export type { HubResponseOptions } from "./hub_options.ts";

/** How `hub.response` opens a subscriber: validated topics and cursor, then the broker. */
export type OpenSubscription = (
  options: SubscribeOptions,
  onDeliver?: (info: DeliveryInfo) => void,
) => Promise<Subscription>;

/**
 * The cursor a request resumes from: the `Last-Event-ID` header (what EventSource sends on its
 * own reconnect), else a `lastEventId` query parameter (for clients that can't set headers).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastEventIdOf } from "./hub_response.ts";
 * assert.equal(lastEventIdOf(new Request("http://x/?lastEventId=h1.e.t.0")), "h1.e.t.0");
 * const both = new Request("http://x/?lastEventId=q", { headers: { "last-event-id": "h" } });
 * assert.equal(lastEventIdOf(both), "h");
 * ```
 */
export function lastEventIdOf(request: Request): string | undefined {
  const header = request.headers.get("last-event-id");
  if (header) return header;
  const url = request.url;
  // Most requests carry no cursor in the query: skip parsing the URL for them.
  if (!url.includes("lastEventId=")) return undefined;
  const query = new URL(url).searchParams.get("lastEventId");
  return query || undefined;
}

/** How long a client waits before retrying when the broker failed, unless `retryMs` says. */
export const BROKER_FAILURE_RETRY_MS = 2_000;

/**
 * Answers one request with a hub subscription. Refused topics or cursors: 400, `text/plain`,
 * the error's message, and its code in `X-Herald-Error`. A failing broker: 200 with an empty
 * event stream holding only `retry:` (and the code in `X-Herald-Error`), so the client retries
 * from the same cursor. A cursor at the end of every topic's stream: 204, no body (the spec's
 * way to tell an `EventSource` not to reconnect).
 */
export async function hubResponse(
  open: OpenSubscription,
  request: Request,
  options: HubResponseOptions,
): Promise<Response> {
  let subscription: Subscription;
  try {
    // No signal: the response's connection already watches the request, and its close ends the
    // subscription (Subscription.attach).
    subscription = await open(
      { topics: options.topics, lastEventId: lastEventIdOf(request) },
      options.onDeliver,
    );
  } catch (error) {
    if (error instanceof HubCursorError || error instanceof HubTopicError) {
      return new Response(error.message + "\n", {
        status: 400,
        headers: { "content-type": "text/plain; charset=utf-8", "x-herald-error": error.code },
      });
    }
    if (error instanceof BrokerError) {
      // The store is unreachable: not the client's fault, and an EventSource gives up for good on
      // any status but 200. So: an empty stream that says when to retry; the client comes back
      // with the same Last-Event-ID and loses nothing.
      (options.logger ?? console).error(
        "Herald hub.response: the broker failed; the client was told to retry.",
        error,
      );
      const headers = new Headers(options.headers);
      headers.set("x-herald-error", error.code);
      // sseResponse reads only its own options: `topics` and `onDeliver` are ignored.
      return sseResponse([], {
        ...options,
        headers,
        request,
        retryMs: options.retryMs ?? BROKER_FAILURE_RETRY_MS,
      });
    }
    throw error;
  }
  if (subscription.atEnd) {
    subscription.close();
    return new Response(null, { status: 204, headers: options.headers });
  }
  // The subscriber drives the connection itself: no stream, writer or closure between them, and
  // the connection's close stops the subscriber (it is the connection's source). The options
  // object is the caller's, read as it is (the connection ignores `topics` and `onDeliver`).
  const connection = openConnection(options, request);
  subscription.attach(connection);
  return connectionResponse(connection, options);
}
