import { cancelSignalsDisconnect } from "../capabilities.ts";

/**
 * The signal that tells a response its client left, or `undefined` where the body's `cancel()`
 * already says so at the same moment and reading `request.signal` has a cost (see
 * `cancelSignalsDisconnect` in capabilities.ts). Elsewhere (workerd with `enable_request_signal`,
 * Vercel Edge) the request's signal is used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cancelSignalsDisconnect } from "../capabilities.ts";
 * import { disconnectSignal } from "./request_signal.ts";
 * const signal = disconnectSignal(new Request("http://localhost/"));
 * assert.equal(signal === undefined, cancelSignalsDisconnect);
 * assert.equal(disconnectSignal(undefined), undefined);
 * ```
 */
export function disconnectSignal(request: Request | undefined): AbortSignal | undefined {
  if (!request || cancelSignalsDisconnect) return undefined;
  return request.signal;
}
