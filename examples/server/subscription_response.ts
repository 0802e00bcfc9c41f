// The answer of `GET /v1/events` once the request is allowed: `hub.response` does the work (the
// cursor, replay, live delivery, the 204 of an ended stream); this adds the server's bookkeeping
// (a connection slot given back exactly once, metrics) and says the hub's refusals in this API's
// JSON.
import { BrokerError, type Hub, type HubResponseOptions, type SSECloseReason } from "@herald/sse";
import { ServerError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";

const TOPIC_CODES = new Set(["invalid-topic", "too-many-topics", "no-topics"]);

/** What {@link subscriptionResponse} needs besides the hub and the request. */
export interface SubscriptionResponseOptions {
  topics: readonly string[];
  /** `sseResponse` options: keep-alive, retry, max duration, the shutdown signal. */
  response: Omit<HubResponseOptions, "topics" | "onDeliver" | "onClose" | "onError">;
  metrics: Metrics;
  /** Gives the connection slot back; called exactly once, whatever happens. */
  release: () => void;
  /** The clock, for delivery lag. */
  now: () => number;
  logger: { error(message: string, error?: unknown): void };
}

/**
 * Answers with `hub.response`, metered: each delivery counts, with its lag when it was live (a
 * replayed event's age is not a lag); a stream counts as opened once it is answered and as closed
 * with its close reason. A refused cursor or topic answers this API's 400 (`cursor-invalid`,
 * `topic-invalid`); a stream that has ended answers 204 (the client stops). Throws the refusal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse";
 * import { Metrics } from "./metrics.ts";
 * import { subscriptionResponse } from "./subscription_response.ts";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const metrics = new Metrics();
 * let released = 0;
 * const options = {
 *   topics: ["news"],
 *   response: {},
 *   metrics,
 *   release: () => released++,
 *   now: Date.now,
 *   logger: console,
 * };
 * const bad = new Request("http://x/v1/events", { headers: { "last-event-id": "nonsense" } });
 * await assert.rejects(subscriptionResponse(hub, bad, options), { code: "cursor-invalid" });
 * assert.equal(released, 1);
 * const response = await subscriptionResponse(hub, new Request("http://x/v1/events"), options);
 * assert.equal(response.status, 200);
 * assert.equal(metrics.open, 1);
 * await response.body!.cancel();
 * assert.equal(metrics.open, 0);
 * assert.equal(released, 2);
 * ```
 */
export async function subscriptionResponse(
  hub: Hub,
  request: Request,
  options: SubscriptionResponseOptions,
): Promise<Response> {
  const { metrics, now, logger } = options;
  let state: "opening" | "open" | "closed" = "opening";
  let response: Response;
  try {
    response = await hub.response(request, {
      ...options.response,
      topics: options.topics,
      onDeliver({ publishedAtMs, replayed }) {
        metrics.eventDelivered(replayed ? undefined : now() - publishedAtMs);
      },
      onClose(reason: SSECloseReason) {
        options.release();
        // A stream that closed before it was answered was never counted as open.
        if (state === "open") metrics.connectionClosed(reason);
        state = "closed";
      },
      onError(error: unknown) {
        if (error instanceof BrokerError) metrics.brokerError();
        logger.error("herald: a subscription failed", error);
      },
      logger,
    });
  } catch (error) {
    options.release();
    throw error;
  }
  if (response.status === 200) {
    // The broker failed: an empty stream that tells the client when to retry from its cursor.
    if (response.headers.has("x-herald-error")) metrics.brokerError();
    if (state === "opening") {
      state = "open";
      metrics.connectionOpened();
    }
    return response;
  }
  options.release();
  if (response.status !== 400) return response; // 204: the stream has ended
  const code = response.headers.get("x-herald-error") ?? "";
  const message = (await response.text()).trim();
  throw TOPIC_CODES.has(code)
    ? new ServerError("topic-invalid", message)
    : new ServerError("cursor-invalid", `${message} (code ${code})`);
}
