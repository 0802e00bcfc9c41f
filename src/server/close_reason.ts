import { HeraldError } from "../errors.ts";

/**
 * Why an SSE response ended. Each response fires its close signal exactly once, with one of:
 * - `client-disconnected`: the client went away (the body was cancelled or the request's signal
 *   fired). On Workers this is noticed at the next write, so within `keepAliveMs`.
 * - `write-failed`: writing to the network failed.
 * - `max-duration`: `maxDurationMs` elapsed; the stream ended cleanly so the client reconnects
 *   and resumes from its Last-Event-ID.
 * - `slow-client`: the client did not read fast enough and the queue policy `"close"` applied.
 * - `producer-done`: the source ended (its iterator finished, its function's promise resolved,
 *   or the producer called `close()`).
 * - `producer-error`: the source threw or errored; the error went to the logger, never to the
 *   client.
 * - `aborted`: the `signal` passed in `options.signal` aborted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSECloseReason } from "@herald/sse";
 * const seen: SSECloseReason[] = [];
 * const response = sseResponse([{ data: "hi" }], { onClose: (reason) => seen.push(reason) });
 * await response.text();
 * assert.deepEqual(seen, ["producer-done"]);
 * ```
 */
export type SSECloseReason =
  | "client-disconnected"
  | "write-failed"
  | "max-duration"
  | "slow-client"
  | "producer-done"
  | "producer-error"
  | "aborted";

const ADVICE: Record<SSECloseReason, string> = {
  "client-disconnected": "The client went away; stop producing for it.",
  "write-failed": "Writing to the network failed; the client reconnects on its own.",
  "max-duration": "maxDurationMs elapsed; the client reconnects and resumes by its Last-Event-ID.",
  "slow-client": "The client did not keep up and its queue filled; raise maxQueuedEvents or " +
    'maxQueuedBytes, or use queuePolicy "drop-oldest" for snapshot streams.',
  "producer-done": "The producer finished or called close(); send nothing after that.",
  "producer-error": "The producer failed; see the logger for its error.",
  "aborted": "The signal passed in options.signal aborted the stream.",
};

/**
 * The error a closed stream gives: the `reason` of the writer's `signal`, and the rejection of
 * every `send` that was pending or made after the close. `code` is the {@link SSECloseReason}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SSECloseError, sseResponse } from "@herald/sse";
 * const late = Promise.withResolvers<unknown>();
 * const response = sseResponse(async (stream) => {
 *   stream.close();
 *   await stream.send({ data: "late" }).catch(late.resolve);
 * });
 * await response.text();
 * const error = await late.promise;
 * assert.ok(error instanceof SSECloseError);
 * assert.equal(error.code, "producer-done");
 * ```
 */
export class SSECloseError extends HeraldError {
  declare readonly code: SSECloseReason;

  constructor(reason: SSECloseReason, options?: { cause?: unknown }) {
    super(reason, `The SSE stream is closed (${reason}). ${ADVICE[reason]}`, options);
  }
}
