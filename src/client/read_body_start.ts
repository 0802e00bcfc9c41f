/** How much of an error response's body a client error keeps: enough to show a message. */
export const BODY_START_BYTES = 512;

/**
 * Reads at most `limitBytes` of a response body as UTF-8 text, then cancels the rest, so that a
 * huge or endless error body can't hold the client. A body that breaks while being read yields
 * what arrived before the break: the status is the error being reported, not the body.
 *
 * @example
 * ```ts
 * import { readBodyStart } from "./read_body_start.ts";
 * console.log(await readBodyStart(new Response("x".repeat(600)), 4)); // "xxxx"
 * ```
 */
export async function readBodyStart(
  response: Response,
  limitBytes = BODY_START_BYTES,
): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
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
    reader.cancel().catch(() => {/* already closed or errored: nothing left to release */});
  }
  return text + decoder.decode();
}
