import { SSEEncodeError, type SSEEncodeErrorCode } from "./encode_errors.ts";
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

/** What a refused value was, for a message; never calls into the value (no toString, no getter). */
function describe(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return "a string";
    default:
      return `a ${typeof value}`;
  }
}

/** What a callee threw, read once, if it is an Error that can be read (and logged) at all. */
interface Thrown {
  error: Error;
  message: string;
  /** The runtime's stack or string length ran out. */
  range: boolean;
}

function readThrown(cause: unknown): Thrown | undefined {
  try {
    if (!(cause instanceof Error)) return undefined;
    const message = cause.message;
    if (typeof message !== "string") return undefined;
    return { error: cause, message, range: cause instanceof RangeError };
  } catch {
    // A Proxy or an error with a throwing getter: the caller describes it like any non-Error.
    return undefined;
  }
}

/**
 * An error for something a callee threw, with its message and as its `cause` when that is a
 * readable Error; a hostile value is only described, so that logging the error can't throw.
 */
function wrap(
  code: SSEEncodeErrorCode,
  what: string,
  advice: string,
  cause: unknown,
  thrown: Thrown | undefined = readThrown(cause),
): SSEEncodeError {
  const detail = thrown ? thrown.message : `it threw ${describe(cause)}`;
  const options = thrown ? { cause: thrown.error } : {};
  return new SSEEncodeError(code, `${what} (${detail}). ${advice}`, options);
}

function dataToText(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    const thrown = readThrown(cause);
    // RangeError: the runtime's own stack ran out in JSON.stringify (data nested too deep) or
    // the text grew past its longest string.
    if (thrown?.range) {
      throw wrap(
        "unserializable-data",
        "Event data is nested too deeply or is too large to serialise to JSON",
        "Send flatter or smaller data.",
        cause,
        thrown,
      );
    }
    throw wrap(
      "unserializable-data",
      "Event data could not be serialised to JSON",
      "Send a string, or a value without cycles, BigInts or throwing toJSON methods.",
      cause,
      thrown,
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
    throw new SSEEncodeError(
      "invalid-event",
      `Event name must be a string, got ${describe(name)}.`,
    );
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
    throw new SSEEncodeError("invalid-id", `Event id must be a string, got ${describe(id)}.`);
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
      `retry must be a non-negative integer number of milliseconds, got ${describe(retry)}.`,
    );
  }
  return retry;
}

function checkComment(comment: unknown): string {
  if (typeof comment !== "string") {
    throw new SSEEncodeError(
      "invalid-comment",
      `comment must be a string, got ${describe(comment)}.`,
    );
  }
  return comment;
}

/** The one error a runtime may throw while we build a string: it grew past the longest string. */
function tooLarge(cause: unknown): SSEEncodeError {
  return wrap(
    "event-too-large",
    "The encoded event would be longer than this runtime's longest string",
    "Send the data in smaller events.",
    cause,
  );
}

/**
 * Serialises one event to the `text/event-stream` wire format, ending with a blank line.
 *
 * String data goes out verbatim, anything else as JSON. Data and comments are split on CR, LF
 * and CRLF into one line each, and every data line is written `data: ` with the space, so a
 * payload that starts with a space keeps it. Each field of `event` is read once. Whatever the
 * input (not an object, a throwing getter or Proxy, data whose `toJSON` throws, cycles, BigInts),
 * a refused event throws {@link SSEEncodeError} with a code and nothing is written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeEvent } from "@herald/sse";
 * assert.equal(
 *   encodeEvent({ event: "greeting", id: "1", data: " hello\nworld" }),
 *   "event: greeting\nid: 1\ndata:  hello\ndata: world\n\n",
 * );
 * assert.equal(encodeEvent({ data: { n: 1 } }), 'data: {"n":1}\n\n');
 * ```
 */
export function encodeEvent(event: SSEEvent): string {
  if (typeof event !== "object" || event === null) {
    throw new SSEEncodeError(
      "invalid-event-object",
      `An event is an object { data?, event?, id?, retry?, comment? }, got ${describe(event)}.`,
    );
  }
  let comment, name, id, retry, data;
  try {
    // Each field once: a getter may answer differently on a second read than the check saw.
    comment = event.comment;
    name = event.event;
    id = event.id;
    retry = event.retry;
    data = event.data;
  } catch (cause) {
    throw wrap(
      "invalid-event-object",
      "Reading a field of the event threw",
      "Pass a plain object.",
      cause,
    );
  }
  try {
    let out = comment === undefined ? "" : prefixLines(": ", checkComment(comment));
    if (name !== undefined) out += "event: " + checkEventName(name) + "\n";
    if (id !== undefined) out += "id: " + checkId(id) + "\n";
    if (retry !== undefined) out += "retry: " + checkRetry(retry) + "\n";
    if (typeof data === "string") out += prefixLines("data: ", data);
    // JSON text (no indentation) never holds a raw CR or LF: one line, no scan for line breaks.
    else if (data !== undefined) out += "data: " + dataToText(data) + "\n";
    return out + "\n";
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(error);
    throw error;
  }
}

/**
 * Serialises a comment: a line a client ignores, used for keep-alives and to flush proxies. A
 * comment that is not a string throws {@link SSEEncodeError} (`invalid-comment`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeComment } from "@herald/sse";
 * assert.equal(encodeComment("ping"), ": ping\n\n");
 * assert.equal(encodeComment(), ":\n\n");
 * ```
 */
export function encodeComment(text = ""): string {
  const comment = checkComment(text);
  try {
    return (comment === "" ? ":\n" : prefixLines(": ", comment)) + "\n";
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge(error);
    throw error;
  }
}
