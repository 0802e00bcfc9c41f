// Relays a model provider's streamed answer (OpenAI- or Anthropic-format SSE) into a hub stream:
// one `out.write` per text delta, so every token gets its own id and a reader resumes exactly.
// The provider's own end (`[DONE]`, `message_stop`, `response.completed`) ends the relay; the
// provider's in-stream error, a non-2xx status or a body cut before that end fails it with a
// ModelStreamError, so the hub ends the stream `error` rather than `done` on half an answer.
import { HeraldError } from "../errors.ts";
import { DEFAULT_MAX_EVENT_BYTES } from "../protocol/parser.ts";
import { SSEParseError } from "../protocol/parse_errors.ts";
import { SSEParserStream } from "../protocol/parser_stream.ts";
import type { SSEMessage } from "../protocol/types.ts";

/**
 * The wire formats {@link relayModelStream} reads:
 * - `openai`: Chat Completions chunks (`data: {"choices":[{"delta":{"content":"…"}}]}`, ending
 *   `data: [DONE]`) and Responses API events (`response.output_text.delta`, ending
 *   `response.completed`); both are OpenAI's, and many other providers speak the first.
 * - `anthropic`: Messages API events (`content_block_delta` with `delta.text`, ending
 *   `message_stop`).
 */
export type ModelStreamFormat = "openai" | "anthropic";

/**
 * Why a model stream failed:
 * - `model-status`: the provider answered a non-2xx status (the message holds the status and the
 *   start of the body, where providers say what was wrong).
 * - `model-error`: the provider sent an error inside the stream (Anthropic's `event: error`,
 *   OpenAI's `{"error": …}` chunk or `response.failed`), e.g. an overloaded model mid-answer.
 * - `model-truncated`: the body ended before the provider's end event: the connection was cut,
 *   and the answer is incomplete.
 * - `model-format`: not an event stream, or an event that is not the provider's JSON.
 * - `model-event-too-large`: one event of the provider grew past `maxEventBytes`.
 */
export type ModelStreamErrorCode =
  | "model-status"
  | "model-error"
  | "model-truncated"
  | "model-format"
  | "model-event-too-large";

/**
 * A model stream that could not be relayed to its end. Thrown by {@link relayModelStream}; thrown
 * out of a hub stream's producer, it ends the stream with status `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelStreamError, relayModelStream } from "./relay_model_stream.ts";
 * const upstream = new Response('{"error":{"message":"bad key"}}', { status: 401 });
 * const out = { write(_event: unknown) {}, signal: new AbortController().signal };
 * const error = await relayModelStream(upstream, out).catch((e) => e);
 * assert.ok(error instanceof ModelStreamError);
 * assert.equal(error.code, "model-status");
 * assert.equal(error.status, 401);
 * assert.match(error.message, /bad key/);
 * ```
 */
export class ModelStreamError extends HeraldError {
  declare readonly code: ModelStreamErrorCode;
  /** The upstream HTTP status (for `model-status`; else the status the stream was served with). */
  readonly status: number;

  constructor(
    code: ModelStreamErrorCode,
    message: string,
    status: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = status;
  }
}

/** An event {@link relayModelStream} may write through a `map`: `data` as the hub stores it. */
export interface ModelStreamEvent {
  event?: string;
  data?: unknown;
}

/** What {@link relayModelStream} writes per text delta unless `map` says otherwise. */
export type ModelTokenEvent = { event: "token"; data: { text: string } };

/**
 * Where {@link relayModelStream} writes: the `out` a hub stream's producer is given (any object
 * with `write` and `signal` fits). `write` must take the events the relay writes, so the `out` of
 * `startStream<{ token: { text: string } }>` fits the default and the `out` of another event map
 * needs a `map` to its events. `write` may return a promise; it is awaited, so a writer that
 * pushes back slows the relay instead of buffering the whole answer.
 */
export interface ModelStreamOutput<Event extends string | ModelStreamEvent = ModelTokenEvent> {
  /** A property, not a method, so that TypeScript checks what `out.write` accepts strictly. */
  write: (event: Event) => unknown;
  /** Aborts when the stream is cancelled: the relay stops reading and cancels the upstream body. */
  readonly signal: AbortSignal;
}

/** The events an `out` takes. */
type EventOf<Out extends ModelStreamOutput<never>> = Parameters<Out["write"]>[0];

/** Options of {@link relayModelStream}. */
export interface RelayModelStreamOptions<
  Event extends string | ModelStreamEvent = ModelTokenEvent,
> {
  /** The provider's format. Default: detected from the first event the provider sends. */
  format?: ModelStreamFormat;
  /**
   * What one text delta becomes. Default `{ event: "token", data: { text } }`; return a string to
   * write it as plain `data`.
   */
  map?: (text: string) => Event;
  /** The most bytes one upstream line or event may take. Default 1 MiB, as the parser's. */
  maxEventBytes?: number;
}

/** What {@link relayModelStream} relayed. */
export interface ModelStreamResult {
  /** The format read (as given, or as detected). */
  format: ModelStreamFormat;
  /** How many text deltas were written. */
  tokens: number;
}

/** How much of a non-2xx body goes into the error message: enough for a provider's JSON error. */
const ERROR_BODY_BYTES = 512;

const ANTHROPIC_TYPES = new Set([
  "message_start",
  "message_delta",
  "message_stop",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "ping",
]);

/** What one provider event means to the relay. */
type Step =
  | { kind: "text"; text: string }
  | { kind: "end" }
  | { kind: "error"; message: string }
  | { kind: "invalid" }
  | { kind: "skip" };

const SKIP: Step = { kind: "skip" };
const END: Step = { kind: "end" };
const INVALID: Step = { kind: "invalid" };

const defaultMap = (text: string): ModelTokenEvent => ({ event: "token", data: { text } });

/**
 * Relays a streamed model answer into a hub stream's `out`: parses the provider's SSE `Response`
 * with {@link SSEParserStream}, calls `out.write` once per text delta (awaiting it), and resolves
 * at the provider's end event. Throws {@link ModelStreamError} for a non-2xx status, an in-stream
 * error event, or a body cut before the end; throws `out.signal.reason` when the stream is
 * cancelled, after cancelling the upstream body (pass `out.signal` to `fetch` too, so the request
 * itself stops).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relayModelStream } from "./relay_model_stream.ts";
 * // What OpenAI's Chat Completions API streams (a Response from fetch, in real use).
 * const upstream = new Response(
 *   'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n' +
 *     'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n' +
 *     'data: {"choices":[{"delta":{"content":"lo"}}]}\n\n' +
 *     "data: [DONE]\n\n",
 *   { headers: { "content-type": "text/event-stream" } },
 * );
 * const written: unknown[] = [];
 * const result = await relayModelStream(upstream, {
 *   write: (event) => written.push(event),
 *   signal: new AbortController().signal,
 * });
 * assert.deepEqual(written, [
 *   { event: "token", data: { text: "Hel" } },
 *   { event: "token", data: { text: "lo" } },
 * ]);
 * assert.deepEqual(result, { format: "openai", tokens: 2 });
 * ```
 *
 * Into an `out` of other events, `map` says what each text delta becomes (and is required: the
 * types check that `out` takes what is written):
 * ```ts
 * import assert from "node:assert/strict";
 * import { relayModelStream } from "./relay_model_stream.ts";
 * const upstream = new Response('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n', {
 *   headers: { "content-type": "text/event-stream" },
 * });
 * const written: { event: "delta"; data: string }[] = [];
 * const out = {
 *   write: (event: { event: "delta"; data: string }) => written.push(event),
 *   signal: new AbortController().signal,
 * };
 * await relayModelStream(upstream, out, { map: (text) => ({ event: "delta", data: text }) });
 * assert.deepEqual(written, [{ event: "delta", data: "Hi" }]);
 * // @ts-expect-error: without map the relay writes token events, which this out does not take
 * const refusedByTypes = () => relayModelStream(upstream, out);
 * ```
 *
 * In a producer, with the fetch bound to the stream's signal:
 * ```ts ignore
 * await hub.startStream(topic, async (out) => {
 *   const upstream = await fetch("https://api.openai.com/v1/chat/completions", {
 *     method: "POST",
 *     headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
 *     body: JSON.stringify({ model, messages, stream: true }),
 *     signal: out.signal,
 *   });
 *   await relayModelStream(upstream, out);
 * });
 * ```
 */
export async function relayModelStream<Out extends ModelStreamOutput<never> = ModelStreamOutput>(
  upstream: Response,
  out: Out,
  // Without `map` the relay writes token events, so `out` must take them; with `map`, its events.
  ...[options]: ModelTokenEvent extends EventOf<Out>
    ? [options?: RelayModelStreamOptions<EventOf<Out>>]
    : [options: RelayModelStreamOptions<EventOf<Out>> & { map: (text: string) => EventOf<Out> }]
): Promise<ModelStreamResult> {
  const settings: RelayModelStreamOptions<string | ModelStreamEvent> = options ?? {};
  const write = out.write as (event: string | ModelStreamEvent) => unknown;
  const { signal } = out;
  const map = settings.map ?? defaultMap;
  const maxEventBytes = settings.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (signal.aborted) {
    await upstream.body?.cancel(signal.reason).catch(ignoreCancelFailure);
    throw signal.reason;
  }
  if (!upstream.ok) throw await statusError(upstream);
  const contentType = upstream.headers.get("content-type");
  if (!upstream.body || (contentType !== null && !/^text\/event-stream\b/i.test(contentType))) {
    await upstream.body?.cancel().catch(ignoreCancelFailure);
    throw new ModelStreamError(
      "model-format",
      `The model answered ${contentType ?? "no body"}, not text/event-stream: ask for a ` +
        "streamed answer (`stream: true`).",
      upstream.status,
    );
  }

  const reader = upstream.body.pipeThrough(new SSEParserStream({ maxEventBytes })).getReader();
  // Cancelling the parser's readable errors its writable side, and the pipe then cancels the
  // upstream body: the provider's connection closes even when the fetch had no signal.
  const onAbort = () => {
    reader.cancel(signal.reason).catch(ignoreCancelFailure);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  let format = settings.format;
  let tokens = 0;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<SSEMessage>;
      try {
        next = await reader.read();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw readError(error, upstream.status);
      }
      if (signal.aborted) throw signal.reason;
      if (next.done) {
        throw new ModelStreamError(
          "model-truncated",
          `The model's stream ended after ${tokens} tokens without its end event: the ` +
            "connection was cut and the answer is incomplete.",
          upstream.status,
        );
      }
      const message = next.value;
      format ??= detectFormat(message);
      if (format === undefined) continue;
      const step = format === "anthropic" ? anthropicStep(message) : openaiStep(message);
      if (step.kind === "text") {
        tokens++;
        await write(map(step.text));
        continue;
      }
      if (step.kind === "end") {
        await reader.cancel().catch(ignoreCancelFailure);
        return { format, tokens };
      }
      if (step.kind === "error") {
        throw new ModelStreamError(
          "model-error",
          `The model failed mid-answer after ${tokens} tokens: ${step.message}`,
          upstream.status,
        );
      }
      if (step.kind === "invalid") {
        const data = message.data;
        throw new ModelStreamError(
          "model-format",
          `The model sent an event that is not ${format} JSON (${
            JSON.stringify(data.slice(0, 80))
          }` +
            `${data.length > 80 ? "…" : ""}): check the URL, or set options.format.`,
          upstream.status,
        );
      }
    }
  } catch (error) {
    // Whatever stopped the relay, the provider's connection must not stay open.
    await reader.cancel(error).catch(ignoreCancelFailure);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** A cancel that fails (the stream already errored or closed) has nothing left to close. */
function ignoreCancelFailure(): void {}

/** A non-2xx answer: the status and the bounded start of the body (where providers explain). */
async function statusError(upstream: Response): Promise<ModelStreamError> {
  let start = "";
  if (upstream.body) {
    const reader = upstream.body.getReader();
    const decoder = new TextDecoder();
    let bytes = 0;
    try {
      while (bytes < ERROR_BODY_BYTES) {
        const { value, done } = await reader.read();
        if (done) break;
        const take = value.subarray(0, ERROR_BODY_BYTES - bytes);
        bytes += take.length;
        start += decoder.decode(take, { stream: true });
      }
      start += decoder.decode();
    } catch {
      // A body that fails while we read it: the status alone says enough.
    }
    await reader.cancel().catch(ignoreCancelFailure);
  }
  const text = start.replace(/\s+/g, " ").trim();
  return new ModelStreamError(
    "model-status",
    `The model answered ${upstream.status}${upstream.statusText ? ` ${upstream.statusText}` : ""}` +
      (text ? `: ${text}${text.length >= ERROR_BODY_BYTES ? "…" : ""}` : "") +
      ". Check the request, the key and the provider's status.",
    upstream.status,
  );
}

/** A failure while reading: too large an event, or the body cut mid-stream. */
function readError(error: unknown, status: number): ModelStreamError {
  if (error instanceof SSEParseError) {
    return new ModelStreamError(
      "model-event-too-large",
      `The model sent an event past maxEventBytes (${error.limitBytes} bytes); raise ` +
        "maxEventBytes if the provider really sends events this large.",
      status,
      { cause: error },
    );
  }
  return new ModelStreamError(
    "model-truncated",
    `Reading the model's stream failed (${(error as Error)?.message ?? error}): the answer is ` +
      "incomplete.",
    status,
    { cause: error },
  );
}

/** The format an event reveals, or `undefined` for one that could be either (a comment-like). */
function detectFormat(message: SSEMessage): ModelStreamFormat | undefined {
  if (ANTHROPIC_TYPES.has(message.event)) return "anthropic";
  if (message.event === "error") {
    // Both providers may name an error event so; Anthropic's data says `"type":"error"` with a
    // nested error object, which the Anthropic reader understands; OpenAI's reader does too.
    return "anthropic";
  }
  if (message.data === "[DONE]") return "openai";
  const json = parseJson(message.data);
  if (json === undefined) return undefined;
  const type = typeof json.type === "string" ? json.type : undefined;
  if (type !== undefined && (ANTHROPIC_TYPES.has(type) || type === "error")) return "anthropic";
  return "openai";
}

/** Chat Completions chunks and Responses API events. */
function openaiStep(message: SSEMessage): Step {
  if (message.data === "[DONE]") return END;
  const json = parseJson(message.data);
  if (json === undefined) return INVALID;
  if (json.error !== undefined && json.error !== null) {
    return { kind: "error", message: errorText(json.error) };
  }
  const type = json.type;
  if (typeof type === "string") {
    // Responses API (`event: response.*`, data with the same `type`).
    if (type === "response.output_text.delta") {
      return typeof json.delta === "string" && json.delta !== ""
        ? { kind: "text", text: json.delta }
        : SKIP;
    }
    if (type === "response.completed" || type === "response.incomplete") return END;
    if (type === "response.failed") {
      const response = json.response as Record<string, unknown> | undefined;
      return { kind: "error", message: errorText(response?.error ?? "response.failed") };
    }
    if (type === "error") return { kind: "error", message: errorText(json) };
    return SKIP;
  }
  const choices = json.choices;
  if (Array.isArray(choices)) {
    const delta = (choices[0] as { delta?: { content?: unknown } } | undefined)?.delta;
    const content = delta?.content;
    return typeof content === "string" && content !== "" ? { kind: "text", text: content } : SKIP;
  }
  return SKIP;
}

/** Messages API events: the SSE `event` names the type, and the data repeats it. */
function anthropicStep(message: SSEMessage): Step {
  const json = parseJson(message.data);
  if (json === undefined) return INVALID;
  const type = typeof json.type === "string" ? json.type : message.event;
  if (type === "content_block_delta") {
    const delta = json.delta as { type?: unknown; text?: unknown } | undefined;
    return typeof delta?.text === "string" && delta.text !== ""
      ? { kind: "text", text: delta.text }
      : SKIP;
  }
  if (type === "message_stop") return END;
  if (type === "error") return { kind: "error", message: errorText(json.error ?? json) };
  return SKIP;
}

/** The event's data as a JSON object, or `undefined` when it is not one. */
function parseJson(data: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined; // the caller says what it expected
  }
}

/** A provider's error object as one line: `type: message`, bounded. */
function errorText(error: unknown): string {
  if (typeof error === "string") return error.slice(0, ERROR_BODY_BYTES);
  const record = (error ?? {}) as { type?: unknown; code?: unknown; message?: unknown };
  const kind = typeof record.type === "string"
    ? record.type
    : typeof record.code === "string"
    ? record.code
    : "";
  const text = typeof record.message === "string" ? record.message : JSON.stringify(error);
  return (kind ? `${kind}: ${text}` : text).slice(0, ERROR_BODY_BYTES);
}
