// The "AI answer" demo's model: a simulated one, so the demo runs with no provider and no key. It
// writes a long answer token by token into a hub stream's `out`, the way a real model's relay
// would (see `relayModelStream`), and stops at once when `out.signal` aborts: that is how a
// cancelled or unwatched answer stops costing anything.

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

/** Where {@link simulateAnswer} writes: the `out` that `hub.startStream` gives its producer. */
export interface AnswerOut {
  write(event: { event: typeof TOKEN_EVENT; data: AnswerEvents["token"] }): Promise<void>;
  readonly signal: AbortSignal;
}

/**
 * Writes the demo answer into `out`, one token event every `tokenMs`. Returns when the answer is
 * complete (the stream then ends `done`), or as soon as `out.signal` aborts (it ends
 * `cancelled`, or `lost`), without waiting out the pause.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerTokens, simulateAnswer } from "./ai_answer.ts";
 * const written: string[] = [];
 * const out = {
 *   signal: new AbortController().signal,
 *   write: async (e: { data: { text: string } }) => void written.push(e.data.text),
 * };
 * await simulateAnswer(out, { prompt: "Hi", tokenMs: 0 });
 * assert.deepEqual(written, answerTokens("Hi"));
 * ```
 */
export async function simulateAnswer(
  out: AnswerOut,
  options: { prompt?: string; tokenMs: number },
): Promise<void> {
  const tokens = answerTokens(options.prompt);
  for (let i = 0; i < tokens.length && !out.signal.aborted; i++) {
    await out.write({ event: TOKEN_EVENT, data: { i, text: tokens[i] } });
    if (options.tokenMs > 0) await pause(options.tokenMs, out.signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
