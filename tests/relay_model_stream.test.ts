import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ModelStreamError,
  type ModelStreamEvent,
  type ModelStreamOutput,
  relayModelStream,
} from "../src/hub/relay_model_stream.ts";

const encoder = new TextEncoder();

/** A provider's answer as a streamed Response, one body chunk per string given. */
function sseResponse(chunks: (string | Uint8Array)[], init: ResponseInit = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
  return new Response(body, {
    ...init,
    headers: { "content-type": "text/event-stream; charset=utf-8", ...init.headers },
  });
}

/**
 * An upstream that never ends by itself: one chunk per pull, after `paceMs`. It records how many
 * chunks were pulled and whether (and why) the reader cancelled it, which is what tells the
 * provider's connection closed.
 */
function endlessUpstream(chunkAt: (i: number) => string, paceMs = 2) {
  const state = { pulled: 0, cancelled: false, reason: undefined as unknown };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, paceMs));
      // A pull already waiting when the reader cancelled ends there, as a closed socket would.
      if (state.cancelled) return;
      controller.enqueue(encoder.encode(chunkAt(state.pulled++)));
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
    },
  }, { highWaterMark: 0 });
  const response = new Response(body, { headers: { "content-type": "text/event-stream" } });
  return { response, state };
}

/** An `out` that records what was written. */
function recordingOut(controller = new AbortController()) {
  const written: (string | ModelStreamEvent)[] = [];
  const out: ModelStreamOutput = {
    write(event) {
      written.push(event);
    },
    signal: controller.signal,
  };
  return { out, written, controller };
}

const chatChunk = (content: string) =>
  `data: ${
    JSON.stringify({ object: "chat.completion.chunk", choices: [{ delta: { content } }] })
  }\n\n`;

const texts = (written: (string | ModelStreamEvent)[]) =>
  written.map((w) => ((w as ModelStreamEvent).data as { text: string }).text);

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("relayModelStream: OpenAI format", () => {
  it("writes one token event per Chat Completions delta, in order, and ends on [DONE]", async () => {
    const { out, written } = recordingOut();
    const upstream = sseResponse([
      `data: ${JSON.stringify({ choices: [{ delta: { role: "assistant", content: "" } }] })}\n\n`,
      chatChunk("Hello"),
      chatChunk(","),
      chatChunk(" world"),
      `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }] })}\n\n`,
      "data: [DONE]\n\n",
    ]);
    const result = await relayModelStream(upstream, out);
    assert.deepEqual(written, [
      { event: "token", data: { text: "Hello" } },
      { event: "token", data: { text: "," } },
      { event: "token", data: { text: " world" } },
    ]);
    assert.deepEqual(result, { format: "openai", tokens: 3 });
  });

  it("reads the same tokens whatever the chunking: byte by byte, CRLF, split characters", async () => {
    const tokens = ["Grüße", " 🌍", " ok", " 終"];
    const text = tokens.map(chatChunk).join("").replaceAll("\n", "\r\n") + "data: [DONE]\r\n\r\n";
    const bytes = encoder.encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) {
      chunks.push(bytes.subarray(i, i + 1));
      if (i % 7 === 0) chunks.push(new Uint8Array(0));
    }
    const { out, written } = recordingOut();
    await relayModelStream(sseResponse(chunks), out);
    assert.deepEqual(texts(written), tokens);
  });

  it("stops reading at [DONE] and cancels the rest of the upstream body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(chatChunk("a") + "data: [DONE]\n\n"));
        // The provider keeps the connection open: the relay must not wait for its end.
      },
      cancel() {
        cancelled = true;
      },
    });
    const { out, written } = recordingOut();
    const upstream = new Response(body, { headers: { "content-type": "text/event-stream" } });
    await relayModelStream(upstream, out);
    assert.deepEqual(texts(written), ["a"]);
    await until(() => cancelled, "the upstream body's cancel");
  });

  it("reads the Responses API's output_text deltas and ends on response.completed", async () => {
    const event = (type: string, extra: Record<string, unknown> = {}) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
    const upstream = sseResponse([
      event("response.created", { response: { id: "r1" } }),
      event("response.output_item.added"),
      event("response.output_text.delta", { delta: "One" }),
      event("response.output_text.delta", { delta: " two" }),
      event("response.output_text.done", { text: "One two" }),
      event("response.completed", { response: { id: "r1" } }),
    ]);
    const { out, written } = recordingOut();
    const result = await relayModelStream(upstream, out);
    assert.deepEqual(texts(written), ["One", " two"]);
    assert.deepEqual(result, { format: "openai", tokens: 2 });
  });

  it("turns an in-stream {error} chunk into ModelStreamError model-error, after the tokens before it", async () => {
    const upstream = sseResponse([
      chatChunk("partial"),
      `data: ${
        JSON.stringify({ error: { message: "The server had an error", type: "server_error" } })
      }\n\n`,
      chatChunk("never"),
    ]);
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out).catch((e) => e);
    assert.ok(error instanceof ModelStreamError, String(error));
    assert.equal(error.code, "model-error");
    assert.match(error.message, /server_error: The server had an error/);
    assert.deepEqual(texts(written), ["partial"]);
  });

  it("fails with model-error on the Responses API's response.failed", async () => {
    const upstream = sseResponse([
      `event: response.failed\ndata: ${
        JSON.stringify({
          type: "response.failed",
          response: { error: { code: "server_error", message: "boom" } },
        })
      }\n\n`,
    ]);
    const error = await relayModelStream(upstream, recordingOut().out).catch((e) => e);
    assert.equal(error.code, "model-error");
    assert.match(error.message, /server_error: boom/);
  });
});

describe("relayModelStream: Anthropic format", () => {
  const event = (type: string, extra: Record<string, unknown> = {}) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
  const delta = (text: string) =>
    event("content_block_delta", { index: 0, delta: { type: "text_delta", text } });

  it("writes one token per text delta, skips pings, and ends on message_stop", async () => {
    const upstream = sseResponse([
      event("message_start", { message: { id: "m1", content: [] } }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("ping"),
      delta("Bonjour"),
      delta(" à"),
      delta(" vous"),
      event("content_block_stop", { index: 0 }),
      event("message_delta", { delta: { stop_reason: "end_turn" } }),
      event("message_stop"),
    ]);
    const { out, written } = recordingOut();
    const result = await relayModelStream(upstream, out);
    assert.deepEqual(texts(written), ["Bonjour", " à", " vous"]);
    assert.deepEqual(result, { format: "anthropic", tokens: 3 });
  });

  it("turns event: error into ModelStreamError model-error with the provider's type and message", async () => {
    const upstream = sseResponse([
      event("message_start", { message: { id: "m1" } }),
      delta("Half"),
      event("error", { error: { type: "overloaded_error", message: "Overloaded" } }),
    ]);
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out).catch((e) => e);
    assert.ok(error instanceof ModelStreamError);
    assert.equal(error.code, "model-error");
    assert.match(error.message, /overloaded_error: Overloaded/);
    assert.match(error.message, /after 1 tokens/);
    assert.deepEqual(texts(written), ["Half"]);
  });

  it("follows options.format instead of guessing", async () => {
    // An Anthropic stream read as OpenAI: its JSON has no choices, so nothing is a token, and the
    // stream ends without OpenAI's [DONE].
    const upstream = sseResponse([delta("x"), event("message_stop")]);
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out, { format: "openai" }).catch((e) => e);
    assert.equal(error.code, "model-truncated");
    assert.deepEqual(written, []);
  });
});

describe("relayModelStream: failures", () => {
  it("a non-2xx answer throws model-status with the status and the bounded start of the body", async () => {
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(encoder.encode(
          pulls === 1
            ? '{"error":{"message":"Rate limit reached","type":"requests"}}'
            : "x".repeat(4096),
        ));
      },
    }, { highWaterMark: 0 });
    const upstream = new Response(body, {
      status: 429,
      statusText: "Too Many Requests",
      headers: { "content-type": "application/json" },
    });
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out).catch((e) => e);
    assert.ok(error instanceof ModelStreamError);
    assert.equal(error.code, "model-status");
    assert.equal(error.status, 429);
    assert.match(error.message, /^The model answered 429 Too Many Requests: \{"error"/);
    assert.match(error.message, /Rate limit reached/);
    assert.ok(error.message.length < 800, `bounded, got ${error.message.length} characters`);
    assert.ok(pulls <= 3, `read only the start of an endless body (${pulls} pulls)`);
    assert.deepEqual(written, []);
  });

  it("a 200 that is not an event stream (stream: false) throws model-format", async () => {
    const upstream = Response.json({ choices: [{ message: { content: "all at once" } }] });
    const error = await relayModelStream(upstream, recordingOut().out).catch((e) => e);
    assert.equal(error.code, "model-format");
    assert.match(error.message, /application\/json.*, not text\/event-stream/);
  });

  it("a body that ends before [DONE] throws model-truncated: half an answer is not done", async () => {
    const upstream = sseResponse([chatChunk("a"), chatChunk("b")]);
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out).catch((e) => e);
    assert.ok(error instanceof ModelStreamError);
    assert.equal(error.code, "model-truncated");
    assert.match(error.message, /after 2 tokens/);
    assert.deepEqual(texts(written), ["a", "b"]);
  });

  it("a body cut mid-event (a dropped connection) throws model-truncated with the cause", async () => {
    const cut = new Error("connection reset");
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        controller.enqueue(encoder.encode(chatChunk("a") + 'data: {"choices":[{"del'));
        await new Promise((resolve) => setTimeout(resolve, 5));
        controller.error(cut);
      },
    });
    const upstream = new Response(body, { headers: { "content-type": "text/event-stream" } });
    const { out, written } = recordingOut();
    const error = await relayModelStream(upstream, out).catch((e) => e);
    assert.equal(error.code, "model-truncated");
    assert.equal(error.cause, cut);
    assert.deepEqual(texts(written), ["a"]);
  });

  it("data that is not JSON throws model-format and cancels the upstream", async () => {
    const { response, state } = endlessUpstream((i) =>
      i === 0 ? chatChunk("a") : "data: <html>\n\n"
    );
    const error = await relayModelStream(response, recordingOut().out).catch((e) => e);
    assert.equal(error.code, "model-format");
    assert.match(error.message, /<html>/);
    await until(() => state.cancelled, "the upstream's cancel");
  });

  it("an event past maxEventBytes throws model-event-too-large and cancels the upstream", async () => {
    const { response, state } = endlessUpstream((i) =>
      i === 0 ? chatChunk("ok") : `data: {"choices":[{"delta":{"content":"${"z".repeat(300)}`
    );
    const { out, written } = recordingOut();
    const error = await relayModelStream(response, out, { maxEventBytes: 1024 }).catch((e) => e);
    assert.ok(error instanceof ModelStreamError);
    assert.equal(error.code, "model-event-too-large");
    assert.deepEqual(texts(written), ["ok"]);
    assert.ok(state.pulled < 20, `stopped soon after the limit (${state.pulled} chunks)`);
    await until(() => state.cancelled, "the upstream's cancel");
  });
});

describe("relayModelStream: the stream's signal", () => {
  it("an abort mid-answer cancels the upstream body, writes nothing more, and throws the reason", async () => {
    const { response, state } = endlessUpstream((i) => chatChunk(`t${i} `));
    const controller = new AbortController();
    const written: unknown[] = [];
    const reason = new Error("cancelled by the test");
    const out: ModelStreamOutput = {
      write(event) {
        written.push(event);
        if (written.length === 5) controller.abort(reason);
      },
      signal: controller.signal,
    };
    const error = await relayModelStream(response, out).catch((e) => e);
    assert.equal(error, reason);
    assert.equal(written.length, 5);
    await until(() => state.cancelled, "the upstream's cancel");
    const pulled = state.pulled;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(state.pulled, pulled, "nothing is read after the cancel");
  });

  it("an abort while waiting for the next upstream chunk cancels at once", async () => {
    const { response, state } = endlessUpstream((i) => chatChunk(`t${i}`), 10_000);
    const controller = new AbortController();
    const relay = relayModelStream(response, recordingOut(controller).out).catch((e) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const startedMs = Date.now();
    controller.abort(new Error("stop"));
    const error = await relay;
    assert.equal(error.message, "stop");
    await until(() => state.cancelled, "the upstream's cancel");
    assert.ok(Date.now() - startedMs < 5_000, "not after the pending chunk");
  });

  it("an already aborted signal writes nothing and cancels the body", async () => {
    const { response, state } = endlessUpstream((i) => chatChunk(`t${i}`));
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    const { out, written } = recordingOut(controller);
    const error = await relayModelStream(response, out).catch((e) => e);
    assert.equal(error.message, "gone");
    assert.deepEqual(written, []);
    await until(() => state.cancelled, "the upstream's cancel");
  });
});

describe("relayModelStream: writing", () => {
  it("awaits each write: a writer that pushes back holds the next token", async () => {
    const upstream = sseResponse([chatChunk("a"), chatChunk("b"), "data: [DONE]\n\n"]);
    const written: unknown[] = [];
    let release: () => void = () => {};
    const out: ModelStreamOutput = {
      write(event) {
        written.push(event);
        return new Promise<void>((resolve) => (release = resolve));
      },
      signal: new AbortController().signal,
    };
    const relay = relayModelStream(upstream, out);
    await until(() => written.length === 1, "the first write");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(written.length, 1, "the second token waits for the first write");
    release();
    await until(() => written.length === 2, "the second write");
    release();
    assert.deepEqual(await relay, { format: "openai", tokens: 2 });
  });

  it("options.map shapes each token: a string is written as plain data", async () => {
    const upstream = sseResponse([chatChunk("x"), chatChunk("y"), "data: [DONE]\n\n"]);
    const written: string[] = [];
    const out = {
      write: (event: string) => written.push(event),
      signal: new AbortController().signal,
    };
    await relayModelStream(upstream, out, { map: (text) => text.toUpperCase() });
    assert.deepEqual(written, ["X", "Y"]);
  });

  it("a write that throws stops the relay with that error and cancels the upstream", async () => {
    const { response, state } = endlessUpstream((i) => chatChunk(`t${i}`));
    const refused = new Error("the writer refused");
    const out: ModelStreamOutput = {
      write() {
        throw refused;
      },
      signal: new AbortController().signal,
    };
    assert.equal(await relayModelStream(response, out).catch((e) => e), refused);
    await until(() => state.cancelled, "the upstream's cancel");
  });
});
