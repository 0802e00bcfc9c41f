import { SSEEncodeError } from "./encode_errors.ts";
import type { SSEEvent } from "./types.ts";

// One regex for all three line endings; used only when a fast indexOf scan found a CR or LF.
const LINE_BREAK = /\r\n|\r|\n/g;

function hasLineBreak(text: string): boolean {
  return text.indexOf("\n") !== -1 || text.indexOf("\r") !== -1;
}

/** Writes `prefix` before every line of `text`; `prefix` includes the space after the colon. */
function prefixLines(prefix: string, text: string): string {
  if (!hasLineBreak(text)) return prefix + text + "\n";
  return prefix + text.replace(LINE_BREAK, "\n" + prefix) + "\n";
}

function dataToText(data: unknown): string {
  if (typeof data === "string") return data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new SSEEncodeError(
      "unserializable-data",
      `Event data could not be serialised to JSON (${(cause as Error)?.message ?? cause}). ` +
        "Send a string, or a value without cycles or BigInts.",
      { cause },
    );
  }
  if (json === undefined) {
    throw new SSEEncodeError(
      "unserializable-data",
      `Event data of type ${typeof data} has no JSON form. Send a string or a JSON-serialisable value.`,
    );
  }
  return json;
}

function checkEventName(name: unknown): string {
  if (typeof name !== "string") {
    throw new SSEEncodeError("invalid-event", `Event name must be a string, got ${typeof name}.`);
  }
  if (hasLineBreak(name)) {
    throw new SSEEncodeError(
      "invalid-event",
      `Event name ${JSON.stringify(name)} contains a line break, which would inject fields. ` +
        "Use a name without CR or LF.",
    );
  }
  return name;
}

function checkId(id: unknown): string {
  if (typeof id !== "string") {
    throw new SSEEncodeError("invalid-id", `Event id must be a string, got ${typeof id}.`);
  }
  if (hasLineBreak(id) || id.indexOf("\0") !== -1) {
    throw new SSEEncodeError(
      "invalid-id",
      `Event id ${JSON.stringify(id)} contains CR, LF or NUL: clients would ignore or ` +
        "misparse it. Use an id without them.",
    );
  }
  return id;
}

function checkRetry(retry: unknown): number {
  if (typeof retry !== "number" || !Number.isSafeInteger(retry) || retry < 0) {
    throw new SSEEncodeError(
      "invalid-retry",
      `retry must be a non-negative integer number of milliseconds, got ${String(retry)}.`,
    );
  }
  return retry;
}

/**
 * Serialises one event to the `text/event-stream` wire format, ending with a blank line.
 *
 * String data goes out verbatim, anything else as JSON. Data and comments are split on CR, LF
 * and CRLF into one line each, and every data line is written `data: ` with the space, so a
 * payload that starts with a space keeps it. An unsafe event throws {@link SSEEncodeError} and
 * nothing is written.
 *
 * @example
 * ```ts
 * import { encodeEvent } from "@herald/sse";
 * console.log(encodeEvent({ event: "greeting", id: "1", data: " hello\nworld" }));
 * // event: greeting
 * // id: 1
 * // data:  hello
 * // data: world
 * //
 * ```
 */
export function encodeEvent(event: SSEEvent): string {
  let out = "";
  if (event.comment !== undefined) {
    if (typeof event.comment !== "string") {
      throw new SSEEncodeError(
        "invalid-comment",
        `comment must be a string, got ${typeof event.comment}.`,
      );
    }
    out += prefixLines(": ", event.comment);
  }
  if (event.event !== undefined) out += "event: " + checkEventName(event.event) + "\n";
  if (event.id !== undefined) out += "id: " + checkId(event.id) + "\n";
  if (event.retry !== undefined) out += "retry: " + checkRetry(event.retry) + "\n";
  if (typeof event.data === "string") out += prefixLines("data: ", event.data);
  // JSON text (no indentation) never holds a raw CR or LF: one line, no scan for line breaks.
  else if (event.data !== undefined) out += "data: " + dataToText(event.data) + "\n";
  return out + "\n";
}

/**
 * Serialises a comment: a line a client ignores, used for keep-alives and to flush proxies.
 *
 * @example
 * ```ts
 * import { encodeComment } from "@herald/sse";
 * console.log(JSON.stringify(encodeComment("ping"))); // ": ping\n\n"
 * ```
 */
export function encodeComment(text = ""): string {
  return (text === "" ? ":\n" : prefixLines(": ", text)) + "\n";
}
