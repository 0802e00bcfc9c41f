// Opening a response's connection the way `sseResponse` does, for producers inside the library
// that drive the connection themselves (the hub), and the `Response` around a connection.
import { serverIdleTimeoutMs } from "../capabilities.ts";
import { ResponseConnection } from "./connection.ts";
import { headersFor } from "./headers.ts";
import { DEFAULT_KEEP_ALIVE_MS, resolveOptions, type SSEResponseOptions } from "./options.ts";

/**
 * The default `keepAliveMs` here: {@link DEFAULT_KEEP_ALIVE_MS}, or four fifths of the server's
 * idle timeout where the runtime has one (Bun: 8 s under its 10 s), so a quiet stream outlives it
 * even when the handler didn't turn the timeout off.
 */
export const defaultKeepAliveMs = serverIdleTimeoutMs === undefined
  ? DEFAULT_KEEP_ALIVE_MS
  : Math.min(DEFAULT_KEEP_ALIVE_MS, Math.floor(serverIdleTimeoutMs * 0.8));

/**
 * A connection as `sseResponse` makes it, for a producer inside the library that drives the
 * connection itself (the hub): the same defaults and checks, with the `close` queue policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionResponse, openConnection } from "./open_connection.ts";
 * const connection = openConnection({}, undefined);
 * assert.equal(connection.push({ data: "hi" }), true);
 * connection.close("producer-done");
 * const response = connectionResponse(connection, {});
 * assert.equal(await response.text(), ":\n\ndata: hi\n\n");
 * ```
 */
export function openConnection(
  options: Omit<SSEResponseOptions, "request" | "queuePolicy">,
  request: Request | undefined,
): ResponseConnection {
  // A subscriber resumes from its cursor, so a client that falls behind is closed, never skipped.
  const policy = (options as SSEResponseOptions).queuePolicy;
  const closing = policy === undefined || policy === "close"
    ? options
    : { ...options, queuePolicy: "close" as const };
  return new ResponseConnection(options, resolveOptions(closing, defaultKeepAliveMs), request);
}

/**
 * The `Response` for a connection: its body, the status, and the event-stream headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectionResponse, openConnection } from "./open_connection.ts";
 * const connection = openConnection({}, undefined);
 * connection.close("producer-done");
 * const response = connectionResponse(connection, { status: 200 });
 * assert.equal(response.headers.get("cache-control"), "no-cache, no-transform");
 * ```
 */
export function connectionResponse(
  connection: ResponseConnection,
  options: Pick<SSEResponseOptions, "status" | "statusText" | "headers">,
): Response {
  return new Response(connection.body, {
    status: options.status ?? 200,
    statusText: options.statusText,
    headers: headersFor(options.headers),
  });
}
