// hub.response: read the client's cursor from the request, subscribe, and answer with an event
// stream; refused topics or cursors answer 400 with a message that says what to do.
import type { SSEEvent } from "../protocol/types.ts";
import type { SSEResponseOptions } from "../server/options.ts";
import { sseResponse } from "../server/response.ts";
import { HubCursorError, HubTopicError } from "./errors.ts";
import type { Hub } from "./hub.ts";

/**
 * Options of `hub.response`: the topics, plus any option of `sseResponse` except `request` (the
 * request is the first argument) and `queuePolicy` (always `"close"`: dropping events would
 * break exact resume; a closed client resumes from its cursor instead).
 */
export interface HubResponseOptions extends Omit<SSEResponseOptions, "request" | "queuePolicy"> {
  /** The topics this response streams. Decided by the server, never taken from the client as is. */
  topics: readonly string[];
}

/**
 * The cursor a request resumes from: the `Last-Event-ID` header (what EventSource sends on its
 * own reconnect), else a `lastEventId` query parameter (for clients that can't set headers).
 *
 * @example
 * ```ts
 * import { lastEventIdOf } from "@herald/sse";
 * console.log(lastEventIdOf(new Request("http://x/?lastEventId=h1.e.t.0"))); // "h1.e.t.0"
 * ```
 */
export function lastEventIdOf(request: Request): string | undefined {
  const header = request.headers.get("last-event-id");
  if (header) return header;
  const query = new URL(request.url).searchParams.get("lastEventId");
  return query || undefined;
}

/**
 * Answers one request with a hub subscription. Refused topics or cursors: 400, `text/plain`,
 * the error's message, and its code in `X-Herald-Error`.
 */
export async function hubResponse(
  hub: Hub,
  request: Request,
  options: HubResponseOptions,
): Promise<Response> {
  const { topics, ...rest } = options;
  let stream: ReadableStream<SSEEvent>;
  try {
    stream = await hub.subscribe({
      topics,
      lastEventId: lastEventIdOf(request),
      signal: request.signal,
    });
  } catch (error) {
    if (error instanceof HubCursorError || error instanceof HubTopicError) {
      return new Response(error.message + "\n", {
        status: 400,
        headers: { "content-type": "text/plain; charset=utf-8", "x-herald-error": error.code },
      });
    }
    throw error;
  }
  return sseResponse(stream, { ...rest, request, queuePolicy: "close" });
}
