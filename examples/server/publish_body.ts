// The body of `POST /v1/topics/:topic`: `{ event?, data }` or an array of them, checked for shape
// and size before anything reaches the hub.
import { ServerError } from "./errors.ts";

/** One event to publish, as the API accepts it. */
export interface PublishEvent {
  event?: string;
  data: unknown;
}

/** The longest event name, in UTF-8 bytes: names are labels, not payloads. */
export const MAX_EVENT_NAME_BYTES = 256;
/** How deeply a publish body may nest arrays and objects (the body's own array and event object
 * included). Deeper input is refused before it is parsed, so nothing recurses on it. */
export const MAX_BODY_DEPTH = 64;
/** The event-name prefix the hub keeps for its own events (`herald.history-lost`): a publisher
 * must not be able to forge them. */
export const RESERVED_EVENT_PREFIX = "herald.";

/** Whether `text` holds a C0 control, DEL or a C1 control: invisible in a name, and NUL, CR or
 * LF would break the wire format. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** UTF-8 bytes of `text`, counted without encoding it (a lone surrogate counts as U+FFFD, 3). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4; // a surrogate pair: one character outside the BMP
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** UTF-8 bytes of `data` as it will go on the wire: strings verbatim, anything else as JSON.
 * The body's depth is bounded before parsing, so `JSON.stringify` can't run out of stack. */
function dataBytes(data: unknown): number {
  return utf8Bytes(typeof data === "string" ? data : JSON.stringify(data) ?? "");
}

/**
 * Whether the JSON `text` nests arrays and objects no deeper than `maxDepth`: one pass over the
 * characters, counting brackets outside strings. Linear, no recursion; run before `JSON.parse`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonDepthWithin } from "./publish_body.ts";
 * assert.equal(jsonDepthWithin('{"data":[1,{"a":"[[["}]}', 3), true);
 * assert.equal(jsonDepthWithin("[".repeat(1_000_000), 64), false);
 * ```
 */
export function jsonDepthWithin(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++; // the escaped character can't end the string
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return false;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return true;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function checkName(event: unknown, where: string): void {
  if (typeof event !== "string" || event === "") {
    throw new ServerError(
      "body-invalid",
      `${where} has an "event" that is not a non-empty string.`,
    );
  }
  if (utf8Bytes(event) > MAX_EVENT_NAME_BYTES) {
    throw new ServerError(
      "body-invalid",
      `${where} has an "event" name of ${utf8Bytes(event)} bytes; names are at most ` +
        `${MAX_EVENT_NAME_BYTES} bytes. Put long text in "data".`,
    );
  }
  if (hasControl(event) || !event.isWellFormed()) {
    throw new ServerError(
      "body-invalid",
      `${where} has an "event" name with a control character (CR, LF, NUL, …) or a lone ` +
        "surrogate; names are printable text.",
    );
  }
  if (event.toLowerCase().startsWith(RESERVED_EVENT_PREFIX)) {
    throw new ServerError(
      "body-invalid",
      `${where} has an "event" name starting with "${RESERVED_EVENT_PREFIX}", which the hub ` +
        "keeps for its own events (herald.history-lost). Choose another name.",
    );
  }
}

function checkEvent(value: unknown, index: number, maxEventBytes: number): PublishEvent {
  const where = index < 0 ? "The body" : `Event ${index} of the body`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ServerError("body-invalid", `${where} is not an object like {"data": ...}.`);
  }
  const { event, data, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new ServerError(
      "body-invalid",
      `${where} has field(s) ${unknown.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}; ` +
        'only "event" and "data" are accepted (ids are assigned by the hub).',
    );
  }
  if (!("data" in (value as object))) {
    throw new ServerError("body-invalid", `${where} has no "data" field.`);
  }
  if (event !== undefined) checkName(event, where);
  const bytes = (event === undefined ? 0 : utf8Bytes(event as string)) + dataBytes(data);
  if (bytes > maxEventBytes) {
    throw new ServerError(
      "event-too-large",
      `${where} is ${bytes} bytes (name and data); the most allowed is ${maxEventBytes} ` +
        "(HERALD_MAX_EVENT_BYTES). Send less, or a reference to it.",
    );
  }
  return event === undefined ? { data } : { event: event as string, data };
}

/**
 * Reads and checks a publish body: JSON nested at most {@link MAX_BODY_DEPTH} deep, one event or
 * a non-empty array of at most `maxEvents`, each `{ event?, data }` whose name and data together
 * are no larger than `maxEventBytes` (data as it goes on the wire: a string as is, anything else
 * as JSON). An event name is printable text of at most {@link MAX_EVENT_NAME_BYTES} bytes, not
 * starting with {@link RESERVED_EVENT_PREFIX}. The body is read only up to the largest size those
 * limits allow, so a huge upload is refused without being buffered. Throws a {@link ServerError}
 * (`body-invalid` 400, `event-too-large` 413).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPublishBody } from "./publish_body.ts";
 * const limits = { maxEventBytes: 1024, maxEvents: 10 };
 * const post = (body: string) => new Request("http://x/", { method: "POST", body });
 * assert.deepEqual(await readPublishBody(post('{"data":{"n":1}}'), limits), [{ data: { n: 1 } }]);
 * await assert.rejects(
 *   readPublishBody(post('{"event":"herald.history-lost","data":1}'), limits),
 *   { code: "body-invalid" },
 * );
 * ```
 */
export async function readPublishBody(
  request: Request,
  limits: { maxEventBytes: number; maxEvents: number },
): Promise<PublishEvent[]> {
  // JSON escaping can at most make data 6x larger ("\u0000"); plus room for the envelope.
  const maxBodyBytes = limits.maxEvents * (limits.maxEventBytes * 6 + 256);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBodyBytes) {
    throw tooLarge(maxBodyBytes);
  }
  const text = await readText(request, maxBodyBytes);
  if (!jsonDepthWithin(text, MAX_BODY_DEPTH)) {
    throw new ServerError(
      "body-invalid",
      `The body nests arrays or objects more than ${MAX_BODY_DEPTH} deep. Flatten the data.`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServerError(
      "body-invalid",
      'The body is not JSON. Send {"event"?: "name", "data": ...} or an array of them, with ' +
        "Content-Type: application/json.",
    );
  }
  if (!Array.isArray(body)) return [checkEvent(body, -1, limits.maxEventBytes)];
  if (body.length === 0) {
    throw new ServerError("body-invalid", "The body is an empty array: send at least one event.");
  }
  if (body.length > limits.maxEvents) {
    throw new ServerError(
      "body-invalid",
      `The body holds ${body.length} events; the most in one publish is ${limits.maxEvents} ` +
        "(HERALD_MAX_EVENTS_PER_PUBLISH). Split it.",
    );
  }
  return body.map((event, i) => checkEvent(event, i, limits.maxEventBytes));
}

function tooLarge(maxBodyBytes: number): ServerError {
  return new ServerError(
    "event-too-large",
    `The body is larger than ${maxBodyBytes} bytes, more than the event limits allow ` +
      "(HERALD_MAX_EVENT_BYTES, HERALD_MAX_EVENTS_PER_PUBLISH).",
  );
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}
