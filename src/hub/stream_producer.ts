// One stream's producer, run by `hub.startStream` in the isolate that claimed the stream: it
// batches the producer's writes into appends (one broker call per `coalesceMs` window, or per
// `maxBatchBytes`), renews the lease with a heartbeat when nothing is written, learns of a cancel
// and of the readers from each append's answer (and of a cancel at once from the broker's notice),
// and writes the end. Appends go one at a time, in order; each carries a sequence number, so a
// retry after a lost reply is not applied twice.
//
// Every timer and broker call is made from the producer's own continuation, which started in the
// request that called `startStream`: on Workers that request (kept alive by `waitUntil`) owns them.
import type { SSELogger } from "../server/options.ts";
import type { CancelWatcher, HubEvent, StreamAppend, StreamBroker } from "./broker.ts";
import { BrokerError, HubStreamError } from "./errors.ts";
import { validateHubEvents } from "./publish_validation.ts";
import type { StreamEnd } from "./stream_end.ts";
import type { StreamWriter } from "./stream_options.ts";

/** What a producer needs, resolved by the hub. */
export interface ProducerPlan {
  broker: StreamBroker;
  topic: string;
  fence: string;
  coalesceMs: number;
  maxBatchBytes: number;
  leaseMs: number;
  idleCancelMs: number | undefined;
  ttlMs: number;
  onError: ((error: unknown) => string | undefined | void) | undefined;
  logger: SSELogger;
}

/** The message readers see in `herald.end` when the producer threw and `onError` said nothing. */
export const DEFAULT_STREAM_ERROR_MESSAGE = "The stream failed.";

// Unawaited writes may pile up to this many batches before the stream ends as an error.
const MAX_BUFFERED_BATCHES = 8;
const RESOLVED = Promise.resolve();

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Runs one producer to its stream's end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryBroker } from "./memory_broker.ts";
 * import { StreamProducer } from "./stream_producer.ts";
 * const broker = new MemoryBroker();
 * const { fence } = await broker.claimStream("s", { owner: "h", leaseMs: 5000, ttlMs: 1000 });
 * const producer = new StreamProducer({
 *   broker, topic: "s", fence: fence!, coalesceMs: 10, maxBatchBytes: 1024, leaseMs: 5000,
 *   idleCancelMs: undefined, ttlMs: 1000, onError: undefined, logger: console,
 * });
 * await producer.run(async (out) => {
 *   await out.write("a");
 *   await out.write({ event: "token", data: { text: "b" } });
 * });
 * const read = await broker.read([{ topic: "s", after: "0-0" }], 10);
 * assert.deepEqual(read.topics[0].entries.map((e) => e.event.data), ["a", { text: "b" }, {
 *   status: "done",
 * }]);
 * ```
 */
export class StreamProducer {
  readonly #plan: ProducerPlan;
  readonly #abort = new AbortController();
  readonly #watch = new AbortController();
  readonly out: StreamWriter;
  #buffer: HubEvent[] = [];
  #bufferBytes = 0;
  #firstWriteMs = 0;
  #waiters: Waiter[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #flushQueued = false;
  #heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** The appends, one after another. */
  #chain: Promise<void> = RESOLVED;
  #seq = 0;
  #lastSuccessMs = Date.now();
  /** An end is queued (cancelled, done or failed): no more writes. */
  #ending = false;
  /** The end was written, or the lease is gone: no more appends. */
  #done = false;

  constructor(plan: ProducerPlan) {
    this.#plan = plan;
    this.out = { write: (event) => this.#write(event), signal: this.#abort.signal };
  }

  /** Cancels the stream: the signal aborts, and it ends `cancelled` with `reason`. */
  cancel(reason: string): void {
    if (this.#ending) return;
    this.#abort.abort(
      new HubStreamError(
        "stream-cancelled",
        `The stream of "${this.#plan.topic}" was cancelled (${reason}); stop producing.`,
        { reason },
      ),
    );
    this.#end({ status: "cancelled", reason });
  }

  /**
   * Runs `produce` and ends the stream by its outcome. Never rejects: a failure of the producer
   * goes to the logger and the stream's end. Resolves once the end is written (or the lease is
   * lost) and `produce` has settled.
   */
  async run(produce: (out: StreamWriter) => unknown): Promise<void> {
    const { broker, topic } = this.#plan;
    this.#scheduleHeartbeat(this.#heartbeatMs(this.#plan.idleCancelMs));
    if (broker.watchCancel) {
      const watcher: CancelWatcher = {
        onCancel: (_topic, reason) => this.cancel(reason),
        signal: this.#watch.signal,
      };
      // A microtask later, so even a watchCancel that throws at once only costs speed.
      Promise.resolve().then(() => broker.watchCancel!(topic, watcher)).catch((error) => {
        // Appends still report a cancel; only its speed suffers.
        this.#plan.logger.error(
          `Herald startStream: watching "${topic}" for a cancel failed; a cancel is noticed at ` +
            "the next append or heartbeat instead.",
          error,
        );
      });
    }
    try {
      await produce(this.out);
      this.#end({ status: "done" });
    } catch (error) {
      if (!this.#abort.signal.aborted) this.#fail(error);
    }
    await this.#chain;
  }

  #fail(error: unknown): void {
    this.#plan.logger.error(
      `Herald startStream: the producer of "${this.#plan.topic}" failed; the stream ends with ` +
        "status error.",
      error,
    );
    let message: string | undefined | void;
    try {
      message = this.#plan.onError?.(error);
    } catch (onErrorError) {
      this.#plan.logger.error("Herald startStream: onError threw.", onErrorError);
    }
    this.#end({
      status: "error",
      message: typeof message === "string" ? message : DEFAULT_STREAM_ERROR_MESSAGE,
    });
  }

  #write(input: unknown): Promise<void> {
    if (this.#ending) {
      return refused(
        this.#abort.signal.aborted ? this.#abort.signal.reason : new HubStreamError(
          "stream-ended",
          `The stream of "${this.#plan.topic}" has ended; nothing more can be written to it.`,
        ),
      );
    }
    let event: HubEvent;
    try {
      [event] = validateHubEvents(
        (typeof input === "string" ? { data: input } : input) as HubEvent,
      );
    } catch (error) {
      return refused(error);
    }
    const bytes = eventBytes(event);
    const { maxBatchBytes } = this.#plan;
    // One event always fits an empty buffer, however large (the hub's event limit bounds it).
    if (
      this.#buffer.length > 0 && this.#bufferBytes + bytes > maxBatchBytes * MAX_BUFFERED_BATCHES
    ) {
      const error = new HubStreamError(
        "stream-overflow",
        `The producer of "${this.#plan.topic}" wrote ${MAX_BUFFERED_BATCHES} batches ahead of the ` +
          "broker without awaiting out.write(); the stream ends as an error. Await each write.",
      );
      this.#fail(error);
      return refused(error);
    }
    if (this.#buffer.length === 0) this.#firstWriteMs = Date.now();
    this.#buffer.push(event);
    this.#bufferBytes += bytes;
    this.#scheduleFlush();
    if (this.#bufferBytes < maxBatchBytes) return RESOLVED;
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#ending) return;
    const full = this.#bufferBytes >= this.#plan.maxBatchBytes;
    if (this.#flushTimer !== undefined) {
      if (!full) return;
      clearTimeout(this.#flushTimer);
    }
    const delayMs = full ? 0 : Math.max(0, this.#firstWriteMs + this.#plan.coalesceMs - Date.now());
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flushQueued = true;
      this.#enqueue(() => this.#flush());
    }, delayMs);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((error) => {
      // A step only fails by a bug; the next step still runs, and run() still resolves.
      this.#plan.logger.error("Herald startStream: a step of the producer failed.", error);
    });
  }

  async #flush(): Promise<void> {
    this.#flushQueued = false;
    if (this.#done || this.#buffer.length === 0) return;
    const events = this.#buffer;
    const waiters = this.#waiters;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#waiters = [];
    const answer = await this.#append(events, undefined);
    for (const waiter of waiters) {
      if (answer) waiter.resolve();
      else waiter.reject(this.#abort.signal.reason);
    }
    if (answer) this.#took(answer);
    if (this.#buffer.length > 0) this.#scheduleFlush();
  }

  /** Queues the end: what is buffered goes with it, in one append. */
  #end(end: StreamEnd): void {
    if (this.#ending) return;
    this.#ending = true;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#enqueue(async () => {
      if (this.#done) return;
      const events = this.#buffer;
      const waiters = this.#waiters;
      this.#buffer = [];
      this.#bufferBytes = 0;
      this.#waiters = [];
      const answer = await this.#append(events, end);
      for (const waiter of waiters) {
        if (answer) waiter.resolve();
        else waiter.reject(this.#abort.signal.reason);
      }
      this.#stop();
    });
  }

  /** The heartbeat: renews the lease, and hears of a cancel and of readers, with no events. */
  #scheduleHeartbeat(delayMs: number): void {
    clearTimeout(this.#heartbeatTimer);
    if (this.#done || this.#ending) return;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      this.#enqueue(async () => {
        if (this.#done || this.#ending) return;
        const answer = await this.#append([], undefined);
        if (answer) this.#took(answer);
      });
    }, delayMs);
  }

  #heartbeatMs(idleLeftMs: number | undefined): number {
    const beatMs = Math.max(1, Math.floor(this.#plan.leaseMs / 3));
    return idleLeftMs === undefined ? beatMs : Math.max(1, Math.min(beatMs, idleLeftMs + 5));
  }

  /** Acts on an append's answer: a cancel, nobody watching, and when to beat next. */
  #took(answer: StreamAppend): void {
    if (answer.cancel !== undefined) return this.cancel(answer.cancel);
    const idleCancelMs = this.#plan.idleCancelMs;
    let idleLeftMs: number | undefined;
    if (idleCancelMs !== undefined && answer.readers === 0) {
      idleLeftMs = idleCancelMs - answer.unwatchedMs;
      if (idleLeftMs <= 0) return this.cancel("unwatched");
    }
    this.#scheduleHeartbeat(this.#heartbeatMs(idleLeftMs));
  }

  /**
   * One append, retried (same `seq`) while the broker fails and the lease may still hold.
   * Resolves its answer, or `undefined` when the lease is lost (the producer is then stopped).
   */
  async #append(events: HubEvent[], end: StreamEnd | undefined): Promise<StreamAppend | undefined> {
    const { broker, topic, fence, leaseMs, ttlMs } = this.#plan;
    const seq = ++this.#seq;
    let delayMs = 100;
    for (;;) {
      try {
        const answer = await broker.appendStream(topic, fence, events, {
          seq,
          leaseMs,
          ttlMs,
          end,
        });
        this.#lastSuccessMs = Date.now();
        return answer;
      } catch (error) {
        const lost = error instanceof BrokerError && error.code === "lease-lost";
        if (lost || Date.now() + delayMs - this.#lastSuccessMs >= leaseMs) {
          this.#leaseLost(error, lost);
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 1_000);
      }
    }
  }

  #leaseLost(cause: unknown, refused: boolean): void {
    const { topic, logger } = this.#plan;
    const error = new HubStreamError(
      "lease-lost",
      refused
        ? `The producer of "${topic}" lost its lease (it stalled past leaseMs, or the stream ` +
          "expired) and the stream was ended by another hub; stop producing."
        : `The producer of "${topic}" could not renew its lease: the broker kept failing for ` +
          "leaseMs. The stream ends lost; stop producing.",
      { cause },
    );
    logger.error(`Herald startStream: ${error.message}`, cause);
    this.#ending = true;
    if (!this.#abort.signal.aborted) this.#abort.abort(error);
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters = [];
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#stop();
  }

  #stop(): void {
    this.#done = true;
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#heartbeatTimer);
    this.#flushTimer = undefined;
    this.#heartbeatTimer = undefined;
    this.#watch.abort();
  }
}

/** A rejected promise that is not an unhandled rejection when nobody awaits it. */
function refused(error: unknown): Promise<void> {
  const promise = Promise.reject(error);
  promise.catch(() => {});
  return promise;
}

/** About how many bytes an event takes in a batch (UTF-16 units; for batching, not for limits). */
function eventBytes(event: HubEvent): number {
  const data = event.data;
  const dataLength = typeof data === "string" ? data.length : JSON.stringify(data)?.length ?? 0;
  return dataLength + (event.event?.length ?? 0) + 16;
}
