// The body of `POST /v1/topics/:topic`: `{ event?, data }` or an array of them, checked for shape
// and size before anything reaches the hub.
import { ServerError } from "./errors.ts";

/** One event to publish, as the API accepts it. */
export interface PublishEvent {
  event?: string;
  data: unknown;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `data` as it will go on the wire: strings verbatim, anything else as JSON. */
function dataBytes(data: unknown): number {
  return encoder.encode(typeof data === "string" ? data : JSON.stringify(data) ?? "").length;
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
      `${where} has field(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")}; only ` +
        '"event" and "data" are accepted (ids are assigned by the hub).',
    );
  }
  if (!("data" in (value as object))) {
    throw new ServerError("body-invalid", `${where} has no "data" field.`);
  }
  if (event !== undefined && (typeof event !== "string" || /[\r\n]/.test(event) || !event)) {
    throw new ServerError(
      "body-invalid",
      `${where} has an "event" that is not a non-empty string without CR or LF.`,
    );
  }
  const bytes = dataBytes(data);
  if (bytes > maxEventBytes) {
    throw new ServerError(
      "event-too-large",
      `${where} has ${bytes} bytes of data; the most allowed is ${maxEventBytes} ` +
        "(HERALD_MAX_EVENT_BYTES). Send less, or a reference to it.",
    );
  }
  return event === undefined ? { data } : { event, data };
}

/**
 * Reads and checks a publish body: JSON, one event or a non-empty array of at most `maxEvents`,
 * each `{ event?, data }` with data no larger than `maxEventBytes`. The body is read only up to
 * the largest size those limits allow, so a huge upload is refused without being buffered.
 * Throws a {@link ServerError} (`body-invalid` 400, `event-too-large` 413).
 *
 * @example
 * ```ts
 * import { readPublishBody } from "./publish_body.ts";
 * const request = new Request("http://x/", { method: "POST", body: '{"data":{"n":1}}' });
 * console.log(await readPublishBody(request, { maxEventBytes: 1024, maxEvents: 10 }));
 * // [{ data: { n: 1 } }]
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
