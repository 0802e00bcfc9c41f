let detected: boolean | undefined;

/**
 * Whether this runtime's `EventTarget.dispatchEvent` itself calls an `on<type>` property of the
 * target. workerd's does (checked on workerd 1.20261117: a getter `onprobe` on an EventTarget
 * subclass is called by `dispatchEvent("probe")`, before the listeners), so an EventSource there
 * must not also register a listener for `onmessage`, or each handler would run twice. Browsers,
 * Deno and Bun don't. Detected once by dispatching a probe event, not by sniffing the runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispatchCallsHandlerProperties } from "./handler_properties.ts";
 * assert.equal(dispatchCallsHandlerProperties(), false); // Deno's dispatchEvent doesn't
 * ```
 */
export function dispatchCallsHandlerProperties(): boolean {
  if (detected !== undefined) return detected;
  let called = false;
  const target = new EventTarget() as EventTarget & { onheraldprobe?: () => void };
  target.onheraldprobe = () => (called = true);
  target.dispatchEvent(new Event("heraldprobe"));
  return (detected = called);
}
