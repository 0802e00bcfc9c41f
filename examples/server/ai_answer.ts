// The "AI answer" demo's model: a simulated one, so the demo runs with no provider and no key. It
// answers as OpenAI's Chat Completions API streams (`data: {"choices":[{"delta":{"content":…}}]}`
// then `data: [DONE]`), so the producer relays it with `relayModelStream` exactly as it would relay
// a real provider's `fetch` Response. It stops as soon as its body is cancelled (the relay does
// that when `out.signal` aborts): that is how a cancelled or unwatched answer stops costing.
import { SSEEncoderStream } from "@herald/sse";

/** The `event:` name of one token: data `{ i, text }`, `i` counting from 0. */
export const TOKEN_EVENT = "token";

/** The events of an answer stream, for `hub.startStream<AnswerEvents>`. */
export type AnswerEvents = { token: { i: number; text: string } };

/** The longest prompt the demo takes, in characters. */
export const MAX_PROMPT_CHARS = 200;

const ANSWER = `Herald streams this answer the way a model's answer should be streamed: every \
token is its own Server-Sent Event, with its own id, stored by the hub before any reader sees it. \
Reload the page in the middle and the browser reconnects with the id of the last token it kept; \
the hub replays the tokens strictly after it, then switches to live delivery without a gap, so the \
text continues from the exact token, with nothing repeated and nothing missing. The producer does \
not live in the page's request: it runs once per answer, whatever the number of readers, and \
holds a lease on the stream, so if its process dies the readers learn that the answer was lost \
instead of waiting forever. Writes that come close together are sent to the broker as one \
append, so a thousand tokens cost a few dozen broker requests, not a thousand. When the answer is \
complete the stream ends with a herald.end event that says how it ended: done, cancelled, error \
or lost. The server then closes the response, and answers the browser's next reconnect with 204, \
which tells an EventSource to stop for good. Press Stop and the producer's signal aborts, which \
would cancel the upstream model call; close every tab and, after a short while with nobody \
watching, the server cancels the answer by itself. Three things usually go wrong with streaming \
answers: the buffer lives in the producer's memory, a resume replays from the start, and nobody \
cancels the model call when every reader has left. This demo shows all three done right, with \
the same code on Deno, Bun and Cloudflare Workers.`;

/**
 * The demo answer split into tokens the way a model streams them: each word with the space that
 * precedes it, so joining the tokens gives back the text exactly. A prompt is echoed first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerTokens } from "./ai_answer.ts";
 * assert.ok(answerTokens().join("").startsWith("Herald streams this answer"));
 * assert.ok(answerTokens("Why?").join("").startsWith('You asked: "Why?". Herald'));
 * ```
 */
export function answerTokens(prompt = ""): string[] {
  const asked = prompt.trim().slice(0, MAX_PROMPT_CHARS);
  const text = asked ? `You asked: "${asked}". ${ANSWER}` : ANSWER;
  return text.match(/\s*\S+/g) ?? [];
}

/**
 * A simulated model's streamed answer, as a `Response` in OpenAI's Chat Completions format: one
 * chunk per token every `tokenMs`, then `[DONE]`. Its body stops (and its timer with it) when it
 * is cancelled or `signal` aborts. In real use this is
 * `fetch("https://api.openai.com/v1/chat/completions", { …, signal: out.signal })`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relayModelStream } from "@herald/sse";
 * import { answerTokens, simulatedModel } from "./ai_answer.ts";
 * const signal = new AbortController().signal;
 * const written: unknown[] = [];
 * const model = simulatedModel("Hi", { tokenMs: 0, signal });
 * assert.equal(model.headers.get("content-type"), "text/event-stream");
 * const result = await relayModelStream(model, { write: (e) => written.push(e), signal });
 * assert.equal(result.tokens, answerTokens("Hi").length);
 * assert.deepEqual(written[0], { event: "token", data: { text: "You" } });
 * ```
 */
export function simulatedModel(
  prompt: string,
  options: { tokenMs: number; signal?: AbortSignal },
): Response {
  const tokens = answerTokens(prompt);
  const { signal } = options;
  let i = 0;
  const chunks = new ReadableStream<{ data: unknown }>({
    async pull(controller) {
      if (signal?.aborted) return controller.close();
      if (i > 0 && options.tokenMs > 0) await pause(options.tokenMs, signal);
      if (signal?.aborted) return controller.close();
      if (i === tokens.length) {
        controller.enqueue({ data: "[DONE]" });
        return controller.close();
      }
      controller.enqueue({ data: { choices: [{ index: 0, delta: { content: tokens[i++] } }] } });
    },
  }, { highWaterMark: 0 });
  return new Response(chunks.pipeThrough(new SSEEncoderStream()), {
    headers: { "content-type": "text/event-stream" },
  });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
