// The "AI answer" demo's routes: start an answer (one resumable hub stream per answer, produced
// once whatever the number of readers) and stop one. Readers follow it like any topic, with
// `GET /v1/events?topic=answer.<id>`: the stream's last event is `herald.end`, after which the
// response closes and a reconnect is answered 204. Nothing here formats SSE or handles cursors:
// `hub.startStream` and `hub.cancelStream` are the whole job.
import { BrokerError, type Hub, HubStreamError, relayModelStream } from "@herald/sse";
import { type AnswerEvents, MAX_PROMPT_CHARS, simulatedModel, TOKEN_EVENT } from "./ai_answer.ts";
import { checkPublisherKey } from "./credentials.ts";
import { ServerError } from "./errors.ts";
import type { RateLimiter } from "./limits.ts";
import type { Metrics, StreamCancelReason } from "./metrics.ts";

/** Answers that may be produced at once, per isolate. */
export const MAX_CONCURRENT_ANSWERS = 20;
/** Tokens written within this window reach the broker as one append. */
export const ANSWER_COALESCE_MS = 50;
/** An answer nobody reads for this long is cancelled (reason `unwatched`), unless told. */
export const DEFAULT_ANSWER_IDLE_CANCEL_MS = 10_000;
/** The reason the Stop button gives `cancelStream`. */
export const STOP_REASON = "stopped";

const ANSWER_ID = /^[0-9a-f]{16}$/;
const MAX_BODY_BYTES = 4 * 1024;

/** What {@link createDemo} needs. */
export interface DemoOptions {
  hub: Hub;
  /** Starting or stopping an answer needs one of these (`Authorization: Bearer`). */
  publisherKeys: readonly string[];
  /** Starts count against the publisher key's rate, as publishes do. */
  publishRate: RateLimiter;
  metrics: Metrics;
  /** The pause between the simulated model's tokens. */
  tokenMs: number;
  /** Default {@link DEFAULT_ANSWER_IDLE_CANCEL_MS}. */
  idleCancelMs?: number;
  /** Where a failed answer's error goes (default `console`). */
  logger?: { error(message: string, error?: unknown): void };
}

/** The demo's handlers. Made by {@link createDemo}. */
export interface Demo {
  /**
   * `POST /v1/demo/answers`, body `{ "prompt"?: string }`: starts an answer and answers 201
   * `{ id, topic, cursor }`; `cursor` is the position before the first token, so a reader that
   * starts from it gets the whole answer however late it comes. `waitUntil` is the platform's
   * hook (Workers' `ctx.waitUntil`) that keeps the producer alive after this response.
   */
  start(request: Request, waitUntil?: (work: Promise<unknown>) => void): Promise<Response>;
  /** `POST /v1/demo/answers/:id/cancel`: stops the answer; it ends `cancelled` (`stopped`). */
  cancel(request: Request, id: string): Promise<Response>;
}

/**
 * The demo's handlers over a hub.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse";
 * import { createDemo } from "./demo_routes.ts";
 * import { RateLimiter } from "./limits.ts";
 * import { Metrics } from "./metrics.ts";
 * const key = "a-publisher-key-of-at-least-32-characters";
 * const demo = createDemo({
 *   hub: createHub({ broker: new MemoryBroker() }),
 *   publisherKeys: [key],
 *   publishRate: new RateLimiter({ ratePerSecond: 10, burst: 10 }),
 *   metrics: new Metrics(),
 *   tokenMs: 1000,
 * });
 * const post = (path: string, body: unknown) =>
 *   new Request(`http://127.0.0.1${path}`, {
 *     method: "POST",
 *     headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
 *     body: JSON.stringify(body),
 *   });
 * const started = await demo.start(post("/v1/demo/answers", { prompt: "Hi" }));
 * assert.equal(started.status, 201);
 * const { id, topic } = await started.json();
 * assert.equal(topic, `answer.${id}`);
 * const stopped = await demo.cancel(post(`/v1/demo/answers/${id}/cancel`, {}), id);
 * assert.equal(stopped.status, 202);
 * ```
 */
export function createDemo(options: DemoOptions): Demo {
  const { hub, metrics } = options;
  const logger = options.logger ?? console;
  const idleCancelMs = options.idleCancelMs ?? DEFAULT_ANSWER_IDLE_CANCEL_MS;

  const authorize = async (request: Request) => {
    options.publishRate.take(await checkPublisherKey(request, options.publisherKeys));
  };

  return {
    async start(request, waitUntil) {
      await authorize(request);
      if (metrics.streamsRunning >= MAX_CONCURRENT_ANSWERS) {
        throw new ServerError(
          "rate-limited",
          `${MAX_CONCURRENT_ANSWERS} demo answers are streaming already; wait for one to end.`,
          { headers: { "retry-after": "10" } },
        );
      }
      const prompt = await readPrompt(request);
      const id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
      const topic = `answer.${id}`;
      let cursor: string;
      try {
        ({ cursor } = await hub.startStream<AnswerEvents>(topic, async (out) => {
          metrics.streamStarted();
          let i = 0;
          try {
            // A real model is the same code with `fetch(provider, { …, signal: out.signal })`.
            const model = simulatedModel(prompt, { tokenMs: options.tokenMs, signal: out.signal });
            await relayModelStream(model, out, {
              map(text) {
                // Counted as published when written: the hub stores it within coalesceMs.
                metrics.eventsPublished(1);
                return { event: TOKEN_EVENT, data: { i: i++, text } };
              },
            });
          } catch (error) {
            if (!out.signal.aborted) {
              metrics.streamEnded("error");
              throw error; // the stream ends `error`; readers see a safe message
            }
          }
          if (out.signal.aborted) countStopped(metrics, out.signal.reason);
          else metrics.streamEnded("done");
        }, {
          coalesceMs: ANSWER_COALESCE_MS,
          idleCancelMs,
          ...(waitUntil ? { waitUntil } : {}),
          logger,
        }));
      } catch (error) {
        throw brokerFailure(error, "the answer's start", metrics, logger);
      }
      return Response.json({ id, topic, cursor }, {
        status: 201,
        headers: { "cache-control": "no-store" },
      });
    },

    async cancel(request, id) {
      await authorize(request);
      if (!ANSWER_ID.test(id)) {
        throw new ServerError(
          "topic-invalid",
          "That is not an answer id: use the `id` that POST /v1/demo/answers returned.",
        );
      }
      const topic = `answer.${id}`;
      try {
        await hub.cancelStream(topic, STOP_REASON);
      } catch (error) {
        throw brokerFailure(error, "the answer's cancel", metrics, logger);
      }
      return Response.json({ id, topic }, {
        status: 202,
        headers: { "cache-control": "no-store" },
      });
    },
  };
}

/**
 * Counts a producer stopped by its signal: `lease-lost` (the stream ended `lost`), or cancelled
 * with the reason `cancelStream` was given (`unwatched` when nobody read it for idleCancelMs).
 */
function countStopped(metrics: Metrics, reason: unknown): void {
  if (reason instanceof HubStreamError && reason.code === "lease-lost") {
    metrics.streamEnded("lost");
    return;
  }
  const why = reason instanceof HubStreamError ? reason.reason : undefined;
  const known: StreamCancelReason = why === "unwatched" || why === STOP_REASON ? why : "other";
  metrics.streamEnded("cancelled", known);
}

/** A broker failure as this API says it: 503 `broker-error`, counted and logged. */
function brokerFailure(
  error: unknown,
  what: string,
  metrics: Metrics,
  logger: { error(message: string, error?: unknown): void },
): unknown {
  if (!(error instanceof BrokerError)) return error;
  metrics.brokerError();
  logger.error(`herald: broker failed during ${what}`, error);
  return new ServerError(
    "broker-error",
    `The broker failed during ${what}. Try again; if it persists, check the broker's health.`,
    { cause: error, headers: { "retry-after": "2" } },
  );
}

/** The prompt of a start request: `{ "prompt": string }`, or none (an empty body). */
async function readPrompt(request: Request): Promise<string> {
  const text = await readBoundedText(request, MAX_BODY_BYTES);
  if (text.trim() === "") return "";
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServerError("body-invalid", 'The body must be JSON: { "prompt": "…" }.');
  }
  const prompt = (body as { prompt?: unknown } | null)?.prompt ?? "";
  if (typeof prompt !== "string" || prompt.length > MAX_PROMPT_CHARS) {
    throw new ServerError(
      "body-invalid",
      `"prompt" must be a string of at most ${MAX_PROMPT_CHARS} characters.`,
    );
  }
  return prompt;
}

async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const tooLarge = () =>
    new ServerError("event-too-large", `The body is larger than ${maxBytes} bytes.`);
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw tooLarge();
  const reader = request.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.length;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
}
