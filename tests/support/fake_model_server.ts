// A local stand-in for a model provider's streaming API, on 127.0.0.1 and a free port (Deno and
// Bun, through serve.ts). It streams an answer of N tokens at a given pace in OpenAI's Chat
// Completions format (or Anthropic's), can fail mid-answer with the provider's in-stream error or
// cut the connection, and RECORDS every request and when its connection closed, so a test can say
// "the model saw exactly one request" and "its connection closed within 1 s of the cancel".
//
// Per request, the query string overrides the server's defaults:
//   POST /v1/chat/completions?tokens=200&paceMs=10&errorAfter=50&dropAfter=80&format=anthropic&tag=x
// Run as a program (`deno run -A tests/support/fake_model_server.ts`, `bun …`) it prints
// `listening <port>` and answers `GET /__requests` with the records as JSON, for tests whose model
// server lives in another process.
import { type RunningServer, serve } from "./serve.ts";

/** How the fake model answers. */
export interface FakeModelOptions {
  /** Tokens in the answer. Default 20. */
  tokens?: number;
  /**
   * Token `k` is sent `(k + 1) * paceMs` after the request (tokens due together go in one chunk).
   * Default 10.
   */
  paceMs?: number;
  /** Send the provider's in-stream error event after this many tokens (then end the body). */
  errorAfter?: number;
  /** Cut the connection (no end event, no clean end of the body) after this many tokens. */
  dropAfter?: number;
  /** The wire format. Default "openai" (Chat Completions). */
  format?: "openai" | "anthropic";
}

/** How one request's connection ended. */
export type ModelRequestEnd =
  /** The whole answer went out, with the provider's end event. */
  | "done"
  /** The client closed the connection before the end (a cancel). */
  | "client-closed"
  /** The in-stream error event went out (`errorAfter`). */
  | "error-sent"
  /** The server cut the connection (`dropAfter`). */
  | "dropped"
  /** The server was stopped with the answer still open. */
  | "stopped";

/** What the fake model saw of one request. */
export interface ModelRequestRecord {
  /** 1, 2, … in arrival order. */
  id: number;
  method: string;
  /** Path and query. */
  path: string;
  /** The `tag` query parameter (tests name their requests with it), or "". */
  tag: string;
  /** The JSON body, or the text if it was not JSON. */
  body: unknown;
  /** The options this request was answered with. */
  options: Required<Omit<FakeModelOptions, "errorAfter" | "dropAfter">> & {
    errorAfter?: number;
    dropAfter?: number;
  };
  /** `Date.now()` when the request arrived. */
  startedMs: number;
  /** Tokens written so far. */
  tokensSent: number;
  /** `Date.now()` when the connection closed, by either side; undefined while open. */
  closedMs?: number;
  end?: ModelRequestEnd;
}

/** A running fake model server, from {@link startFakeModelServer}. */
export interface FakeModelServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `url` + `/v1/chat/completions`. */
  completionsUrl: string;
  /** Every request so far, in arrival order (live objects: they update as answers stream). */
  readonly requests: readonly ModelRequestRecord[];
  /** The requests carrying `tag`. */
  requestsTagged(tag: string): ModelRequestRecord[];
  /** Requests whose connection is still open. */
  readonly openConnections: number;
  /** Stops listening and closes open answers. */
  stop(): Promise<void>;
}

/** The text of token `i`: what a reader must get, in order, exactly once. */
export function tokenText(i: number): string {
  return `t${i} `;
}

/** The tokens of a whole answer of `tokens` tokens, in order. */
export function answerTokens(tokens: number): string[] {
  return Array.from({ length: tokens }, (_, i) => tokenText(i));
}

const encoder = new TextEncoder();

function openaiFrames(options: { tokens: number }) {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${
      JSON.stringify({
        id: "chatcmpl-fake",
        object: "chat.completion.chunk",
        model: "fake-model",
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
    }\n\n`;
  return {
    start: chunk({ role: "assistant", content: "" }),
    token: (i: number) => chunk({ content: tokenText(i) }),
    end: chunk({}, "stop") + "data: [DONE]\n\n",
    error: `data: ${
      JSON.stringify({
        error: { message: "The fake model failed mid-answer", type: "server_error" },
      })
    }\n\n`,
    tokens: options.tokens,
  };
}

function anthropicFrames(options: { tokens: number }) {
  const event = (type: string, extra: Record<string, unknown> = {}) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
  return {
    start: event("message_start", { message: { id: "msg_fake", content: [] } }) +
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    token: (i: number) =>
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: tokenText(i) } }),
    end: event("content_block_stop", { index: 0 }) +
      event("message_delta", { delta: { stop_reason: "end_turn" } }) + event("message_stop"),
    error: event("error", { error: { type: "overloaded_error", message: "Overloaded" } }),
    tokens: options.tokens,
  };
}

function optionsFrom(url: URL, defaults: FakeModelOptions): ModelRequestRecord["options"] {
  const number = (name: keyof FakeModelOptions) => {
    const text = url.searchParams.get(name);
    if (text === null) return defaults[name] as number | undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`bad ${name}: ${text}`);
    return value;
  };
  const format = url.searchParams.get("format") ?? defaults.format ?? "openai";
  if (format !== "openai" && format !== "anthropic") throw new RangeError(`bad format: ${format}`);
  return {
    tokens: number("tokens") ?? 20,
    paceMs: number("paceMs") ?? 10,
    errorAfter: number("errorAfter"),
    dropAfter: number("dropAfter"),
    format,
  };
}

/**
 * Starts the fake model server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startFakeModelServer } from "./fake_model_server.ts";
 * const model = await startFakeModelServer({ tokens: 3, paceMs: 0 });
 * try {
 *   const response = await fetch(model.completionsUrl + "?tag=doc", { method: "POST", body: "{}" });
 *   assert.match(await response.text(), /data: \[DONE\]/);
 *   assert.equal(model.requestsTagged("doc")[0].end, "done");
 * } finally {
 *   await model.stop();
 * }
 * ```
 */
export async function startFakeModelServer(
  defaults: FakeModelOptions = {},
): Promise<FakeModelServer> {
  const requests: ModelRequestRecord[] = [];
  const closers = new Set<() => void>();

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__requests" && request.method === "GET") return Response.json(requests);
    const text = await request.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: recorded as text, the test decides whether that matters.
    }
    let options: ModelRequestRecord["options"];
    try {
      options = optionsFrom(url, defaults);
    } catch (error) {
      return new Response(String(error) + "\n", { status: 400 });
    }
    const record: ModelRequestRecord = {
      id: requests.length + 1,
      method: request.method,
      path: url.pathname + url.search,
      tag: url.searchParams.get("tag") ?? "",
      body,
      options,
      startedMs: Date.now(),
      tokensSent: 0,
    };
    requests.push(record);
    if (url.pathname !== "/v1/chat/completions" && url.pathname !== "/v1/messages") {
      record.closedMs = Date.now();
      return new Response("not found\n", { status: 404 });
    }
    return new Response(answer(record), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }

  function answer(record: ModelRequestRecord): ReadableStream<Uint8Array> {
    const { options } = record;
    const frames = options.format === "anthropic"
      ? anthropicFrames(options)
      : openaiFrames(options);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const finish = (end: ModelRequestEnd) => {
      if (record.end !== undefined) return;
      record.end = end;
      record.closedMs = Date.now();
      closers.delete(close);
    };
    let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
    const close = () => {
      clearTimeout(timer);
      wake?.();
      finish("stopped");
      try {
        controllerRef?.close();
      } catch { /* already closed */ }
    };
    closers.add(close);
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controllerRef = controller;
        controller.enqueue(encoder.encode(frames.start));
      },
      async pull(controller) {
        if (record.end !== undefined) return;
        const i = record.tokensSent;
        if (options.dropAfter !== undefined && i >= options.dropAfter) {
          finish("dropped");
          // Erroring the body makes the runtime's server cut the connection mid-stream.
          const error = new Error("fake model: connection dropped (dropAfter)");
          error.stack = error.message;
          controller.error(error);
          return;
        }
        if (options.errorAfter !== undefined && i >= options.errorAfter) {
          controller.enqueue(encoder.encode(frames.error));
          finish("error-sent");
          controller.close();
          return;
        }
        if (i >= options.tokens) {
          controller.enqueue(encoder.encode(frames.end));
          finish("done");
          controller.close();
          return;
        }
        // Token k is due `(k + 1) * paceMs` after the request: a late timer (a loaded machine)
        // sends every token due at once, in one chunk, so the answer keeps its length in time.
        let due = options.tokens;
        if (options.paceMs > 0) {
          const dueAt = (k: number) => record.startedMs + (k + 1) * options.paceMs;
          const waitMs = dueAt(i) - Date.now();
          if (waitMs > 0) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, waitMs);
            });
            wake = undefined;
            if (record.end !== undefined) return;
          }
          due = Math.floor((Date.now() - record.startedMs) / options.paceMs);
        }
        const last = Math.min(
          Math.max(due, i + 1),
          options.tokens,
          options.dropAfter ?? Infinity,
          options.errorAfter ?? Infinity,
        );
        let chunk = "";
        for (let k = i; k < last; k++) chunk += frames.token(k);
        record.tokensSent = last;
        controller.enqueue(encoder.encode(chunk));
      },
      cancel() {
        // Deno and Bun call this as soon as the client's connection closes.
        clearTimeout(timer);
        wake?.();
        finish("client-closed");
      },
    }, { highWaterMark: 0 });
  }

  const http: RunningServer = await serve(handle, { bunIdleTimeoutSeconds: 0 });
  return {
    url: http.url,
    completionsUrl: `${http.url}/v1/chat/completions`,
    get requests() {
      return requests;
    },
    requestsTagged(tag) {
      return requests.filter((r) => r.tag === tag);
    },
    get openConnections() {
      return requests.filter((r) => r.closedMs === undefined).length;
    },
    async stop() {
      for (const close of [...closers]) close();
      await http.close();
    },
  };
}

/** The records of a fake model server in another process (its `GET /__requests`). */
export async function fetchModelRequests(url: string): Promise<ModelRequestRecord[]> {
  const response = await fetch(`${url}/__requests`);
  if (!response.ok) throw new Error(`GET ${url}/__requests answered ${response.status}`);
  return await response.json();
}

if ((import.meta as { main?: boolean }).main) {
  const server = await startFakeModelServer();
  console.log(`listening ${new URL(server.url).port}`);
}
