import { onBun } from "./runtime_bun.ts";
import { onDeno } from "./runtime_deno.ts";

/**
 * The signal that tells a response its client left, or `undefined` where the body's `cancel()`
 * already says so at the same moment and reading `request.signal` has a cost: Deno (a warning
 * about its legacy abort-after-success, see runtime_deno.ts) and Bun (a signal made on first
 * access, see runtime_bun.ts). Elsewhere (workerd with `enable_request_signal`, Vercel Edge) the
 * request's signal is used.
 *
 * @example
 * ```ts
 * import { disconnectSignal } from "./request_signal.ts";
 * const signal = disconnectSignal(new Request("http://localhost/"));
 * console.log(signal === undefined); // true on Deno and Bun
 * ```
 */
export function disconnectSignal(request: Request | undefined): AbortSignal | undefined {
  if (!request || onDeno || onBun) return undefined;
  return request.signal;
}
