// What `hub.startStream` takes and gives: the producer's writer and the stream's options.
import type { SSELogger } from "../server/options.ts";
import type { SSEEventMap } from "../server/writer.ts";
import type { HubEvent } from "./broker.ts";

/** Writes within this window go to the broker as one append, unless `coalesceMs` says. */
export const DEFAULT_COALESCE_MS = 20;
/** An append carries at most about this many bytes of events, unless `maxBatchBytes` says. */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024;
/** A producer's lease lasts this long without an append, unless `leaseMs` says. */
export const DEFAULT_LEASE_MS = 6_000;
/** An ended stream stays resumable this long, unless `ttlMs` says (1 hour). */
export const DEFAULT_STREAM_TTL_MS = 3_600_000;

/**
 * The events a stream of `Events` accepts: for the default (untyped) map any `{ event?, data }`;
 * for a map with named events one `{ event, data }` pair per name.
 *
 * @example
 * ```ts
 * import type { StreamEventOf } from "@herald/sse/hub";
 * type Answer = { token: { text: string } };
 * const accept = (event: StreamEventOf<Answer>) => event;
 * accept({ event: "token", data: { text: "Hi" } });
 * const bare = { event: "token" as const, data: "Hi" };
 * // @ts-expect-error: the data of a token is { text }
 * accept(bare);
 * ```
 */
export type StreamEventOf<Events extends SSEEventMap> = string extends keyof Events ? HubEvent
  : {
    [Name in keyof Events & string]: { event: Name; data: Events[Name] };
  }[keyof Events & string];

/**
 * What `out.write` takes: an event of the map, or a string (the data of an unnamed `message`
 * event) when the map is untyped or has `message: string`.
 */
export type StreamWrite<Events extends SSEEventMap> =
  | StreamEventOf<Events>
  | (string extends keyof Events ? string : Events extends { message: string } ? string : never);

/**
 * What a stream's producer gets: `write` appends one event (each its own SSE event with its own
 * id), `signal` aborts when the stream is cancelled or the producer lost its lease.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker, type StreamWriter } from "@herald/sse/hub";
 * type Answer = { token: { text: string } };
 * async function answer(out: StreamWriter<Answer>) {
 *   for (const text of ["Hel", "lo"]) {
 *     if (out.signal.aborted) return;
 *     await out.write({ event: "token", data: { text } });
 *   }
 * }
 * const hub = createHub({ broker: new MemoryBroker() });
 * const { started } = await hub.startStream<Answer>("answer:3", answer);
 * assert.equal(started, true);
 * ```
 */
export interface StreamWriter<Events extends SSEEventMap = SSEEventMap> {
  /**
   * Appends one event. Resolves at once while the pending batch is under `maxBatchBytes`, else
   * once the broker has taken the batch (so `await` is backpressure). Rejects with
   * `HubEventError` for an event the hub refuses, with `HubStreamError` after the stream ended
   * or when unawaited writes pile up; a rejection nobody awaits is not an unhandled one.
   */
  write(event: StreamWrite<Events>): Promise<void>;
  /**
   * Aborts when the stream is cancelled (`hub.cancelStream`, or nobody read it for
   * `idleCancelMs`) or the producer lost its lease; its `reason` is a `HubStreamError`. Pass it
   * to the upstream `fetch`.
   */
  readonly signal: AbortSignal;
}

/**
 * Options of `hub.startStream`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker, type StreamOptions } from "@herald/sse";
 * const running: Promise<unknown>[] = [];
 * const options: StreamOptions = {
 *   coalesceMs: 50, // one broker call per 50 ms of tokens
 *   idleCancelMs: 30_000, // nobody reads for 30 s: stop the model call
 *   ttlMs: 600_000, // resumable for 10 minutes after the end
 *   waitUntil: (promise) => running.push(promise), // ctx.waitUntil on Workers
 * };
 * const hub = createHub({ broker: new MemoryBroker() });
 * await hub.startStream("answer:opts", (out) => out.write("hi"), options);
 * assert.equal(running.length, 1);
 * await running[0];
 * ```
 */
export interface StreamOptions {
  /**
   * Writes within this window after the first unsent one go to the broker as one append (one
   * request on Upstash), each still its own event. 0 sends as soon as the previous append is
   * done. Default 20.
   */
  coalesceMs?: number;
  /** An append is sent early once its events reach about this many bytes. Default 65 536. */
  maxBatchBytes?: number;
  /**
   * The producer's lease: renewed by every append, and by a heartbeat every `leaseMs / 3` when
   * nothing is written. A producer that misses it (its process died) is ended `lost`, which
   * readers get within about `leaseMs` + 2 s. Default 6000.
   */
  leaseMs?: number;
  /**
   * Cancel (reason `"unwatched"`) once no reader anywhere has been open for this long, in ms
   * (counted from the start when nobody ever comes). Off unless set.
   */
  idleCancelMs?: number;
  /** How long an ended stream stays resumable, in ms. Default 3 600 000 (1 hour). */
  ttlMs?: number;
  /**
   * The platform's hook to keep work alive after the response (`ctx.waitUntil` on Workers,
   * `waitUntil` from `@vercel/functions`, Deno Deploy's): it gets the producer's promise, which
   * never rejects.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Called with the error when `produce` throws; returns the message readers see in the
   * stream's `herald.end` (default "The stream failed."). Readers never see the error itself.
   */
  onError?: (error: unknown) => string | undefined | void;
  /** Where errors are reported (default `console`). */
  logger?: SSELogger;
}

/**
 * What `hub.startStream` resolves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker, type StartedStream } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const produce = async () => await new Promise((resolve) => setTimeout(resolve, 10));
 * const [first, second]: StartedStream[] = await Promise.all([
 *   hub.startStream("answer:once", produce),
 *   hub.startStream("answer:once", produce),
 * ]);
 * assert.deepEqual([first.started, second.started], [true, false]);
 * assert.equal(first.cursor, second.cursor);
 * ```
 */
export interface StartedStream {
  /** Whether this call's `produce` runs (false: another call's does, or the stream ended). */
  started: boolean;
  /**
   * The position before the stream's first event, as a cursor of `topics: [topic]` (signed when
   * the hub signs): a reader that resumes from it gets the whole stream.
   */
  cursor: string;
}
