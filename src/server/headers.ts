import type { HeadersInitLike } from "../web_types.ts";

/** Headers an event stream must never carry: HTTP/2 forbids the first two, the third buffers. */
const FORBIDDEN = ["connection", "transfer-encoding", "content-encoding", "content-length"];

const DEFAULTS: [string, string][] = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache, no-transform"],
  ["x-accel-buffering", "no"],
];

const DEFAULT_RECORD: Record<string, string> = Object.fromEntries(DEFAULTS);

/**
 * The response headers of an event stream: the caller's `init` merged over Herald's defaults
 * (`Content-Type: text/event-stream; charset=utf-8`, `Cache-Control: no-cache, no-transform`,
 * `X-Accel-Buffering: no`), minus `Connection`, `Transfer-Encoding`, `Content-Encoding` and
 * `Content-Length`, which break or buffer a stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseHeaders } from "@herald/sse/server";
 * const headers = sseHeaders({ "access-control-allow-origin": "*", connection: "keep-alive" });
 * assert.equal(headers.get("content-type"), "text/event-stream; charset=utf-8");
 * assert.equal(headers.get("access-control-allow-origin"), "*");
 * assert.equal(headers.get("connection"), null);
 * ```
 */
export function headersFor(init?: HeadersInitLike): Headers {
  // The common case in one step: building a Headers object up by set() and delete() costs a
  // few hundred bytes more per response on Bun, which adds up over 10k idle streams.
  if (init === undefined) return new Headers(DEFAULT_RECORD);
  // Start from the caller's headers so that multi-valued ones (Set-Cookie) survive intact.
  const headers = new Headers(init);
  for (const [name, value] of DEFAULTS) if (!headers.has(name)) headers.set(name, value);
  for (const name of FORBIDDEN) if (headers.has(name)) headers.delete(name);
  return headers;
}
