/** How much of an error response's body a client error keeps: enough to show a message. */
export const BODY_START_BYTES = 512;

/** How long reading an error body may take before the client stops and reports what it has. */
export const BODY_START_TIMEOUT_MS = 5000;

/**
 * Reads at most `limitBytes` of a response body as UTF-8 text, then cancels the rest, so that a
 * huge, endless or stalled error body can't hold the client (it gives up after `timeoutMs`). A
 * body that breaks while being read yields what arrived before the break: the status is the
 * error being reported, not the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBodyStart } from "./read_body_start.ts";
 * assert.equal(await readBodyStart(new Response("x".repeat(600)), 4), "xxxx");
 * const stalled = new Response(
 *   new ReadableStream({ start: (c) => c.enqueue(new Uint8Array([104, 105])) }),
 * );
 * assert.equal(await readBodyStart(stalled, 512, 50), "hi"); // after 50 ms
 * ```
 */
export async function readBodyStart(
  response: Response,
  limitBytes = BODY_START_BYTES,
  timeoutMs = BODY_START_TIMEOUT_MS,
): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  // The global clock on purpose: this is a safety bound, not a delay tests assert on, and
  // cancelling the reader ends a pending read at once with `done`.
  const timer = setTimeout(() => {
    reader.cancel().catch(() => {/* already closed: the read loop ends by itself */});
  }, timeoutMs);
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < limitBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.subarray(0, limitBytes - bytes);
      bytes += part.byteLength;
      text += decoder.decode(part, { stream: true });
    }
  } catch {
    // The body broke mid-read: keep what arrived; the caller reports the status.
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {/* already closed or errored: nothing left to release */});
  }
  // Cut at the limit, a character split there is dropped rather than shown as U+FFFD.
  return bytes >= limitBytes ? text : text + decoder.decode();
}
