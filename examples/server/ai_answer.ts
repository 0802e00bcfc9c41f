// The "AI answer" demo: a long simulated LLM answer, published token by token through the hub
// (one topic per answer, one event per token). Because every token is an event with an id in the
// hub, a reader that reloads mid-answer resumes from the exact token: no repeats, no gaps.

/** The `event:` name of one token: data `{ i, text }`, `i` counting from 0. */
export const TOKEN_EVENT = "token";
/** The `event:` name that ends an answer: data `{ tokens }`, the number of tokens sent. */
export const DONE_EVENT = "done";

const ANSWER = `Server-Sent Events are the web's plain answer to "push me updates": one long HTTP \
response of text/event-stream, with lines like "data: hello" and a blank line after each event. \
The browser's EventSource reconnects by itself when the connection drops, and sends the id of the \
last event it saw in a Last-Event-ID header, so a server that gives every event an id can resume \
exactly where the client left off. That is what you are watching now: every token of this answer \
is an event with its own id, stored by the hub before it is sent. Reload the page in the middle \
and the page reconnects with the id of the last token it kept; the hub replays the tokens strictly \
after it, then switches to live delivery without a gap, so the text continues from the exact \
token, with nothing repeated and nothing missing. Three things usually go wrong with streaming \
answers. First, the buffer lives in the producer's memory, so a resume dies with the producer. \
Second, a resume replays from the start and the reader sees duplicated text. Third, nobody \
cancels the upstream model call when every reader has left. A hub with per-topic history and \
cursors as event ids fixes the first two, and a response builder that notices disconnects fixes \
the third. The same code runs on Deno, on Bun and on Cloudflare Workers, because it only uses \
Request, Response, ReadableStream and TextEncoder.`;

/**
 * The demo answer split into tokens the way a model streams them: each word with the space that
 * precedes it, so joining the tokens gives back the text exactly.
 *
 * @example
 * ```ts
 * import { answerTokens } from "./ai_answer.ts";
 * const tokens = answerTokens();
 * console.log(tokens.join("").startsWith("Server-Sent Events")); // true
 * ```
 */
export function answerTokens(): string[] {
  return ANSWER.match(/\s*\S+/g) ?? [];
}

/** What {@link streamAnswer} publishes through: `hub.publish` or anything shaped like it. */
export type Publish = (
  topic: string,
  events: { event: string; data: unknown }[],
) => Promise<unknown>;

/**
 * Publishes the demo answer to `topic`, one token event every `tokenMs`, then a `done` event.
 * Resolves when the answer is complete; stops early (without `done`) when `signal` aborts.
 *
 * @example
 * ```ts
 * import { answerTokens, streamAnswer } from "./ai_answer.ts";
 * const seen: unknown[] = [];
 * await streamAnswer(async (_topic, events) => seen.push(...events), "answer.demo", {
 *   tokenMs: 0,
 * });
 * console.log(seen.length === answerTokens().length + 1); // true
 * ```
 */
export async function streamAnswer(
  publish: Publish,
  topic: string,
  options: { tokenMs: number; signal?: AbortSignal },
): Promise<void> {
  const tokens = answerTokens();
  for (let i = 0; i < tokens.length; i++) {
    if (options.signal?.aborted) return;
    await publish(topic, [{ event: TOKEN_EVENT, data: { i, text: tokens[i] } }]);
    if (options.tokenMs > 0) await new Promise((r) => setTimeout(r, options.tokenMs));
  }
  await publish(topic, [{ event: DONE_EVENT, data: { tokens: tokens.length } }]);
}
