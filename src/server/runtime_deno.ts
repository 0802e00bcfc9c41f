// Deno specifics, in one place. Deno.serve fires the body's cancel() the moment a client
// disconnects (the same moment `request.signal` aborts), so the response does not need the
// request's signal there. And it should not touch it: Deno 2.9 aborts `request.signal` after every
// *successful* response too ("legacy behavior"), and reading the property makes it print a
// deprecation warning. So on Deno `sseResponse` leaves `request.signal` alone.

/** Whether this code runs on Deno. */
export const onDeno: boolean = typeof (globalThis as { Deno?: unknown }).Deno === "object";

/**
 * The signal that tells `sseResponse` the client left, or `undefined` where the body's `cancel()`
 * already says so and reading the signal has a cost (Deno).
 *
 * @example
 * ```ts
 * import { disconnectSignal } from "./runtime_deno.ts";
 * const signal = disconnectSignal(new Request("http://localhost/"));
 * console.log(signal === undefined); // true on Deno
 * ```
 */
export function disconnectSignal(request: Request | undefined): AbortSignal | undefined {
  if (!request || onDeno) return undefined;
  return request.signal;
}
