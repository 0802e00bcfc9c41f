import { encodeComment, encodeEvent } from "../protocol/encode.ts";
import type { SSEEvent } from "../protocol/types.ts";
import { type SSEClock, systemClock } from "./clock.ts";
import { SSECloseError, type SSECloseReason } from "./close_reason.ts";
import type { ResolvedOptions, SSELogger, SSEResponseOptions } from "./options.ts";
import { EventQueue } from "./queue.ts";
import { disconnectSignal } from "./request_signal.ts";
import { counters } from "./stats.ts";
import { sharedTickerFor, type Ticker } from "./ticker.ts";

const RESOLVED: Promise<void> = Promise.resolve();
// One encoder for every connection: it holds no state between calls.
const ENCODER = new TextEncoder();

// A broadcast (the hub's fan-out) sends one frozen event object to many connections one after
// another, and their queues then drain the very same text: both are encoded once, not once per
// connection. Only frozen events are cached by identity, since an unfrozen one may be edited in
// place between sends. The shared bytes are safe to enqueue into many bodies: a default (not
// byte) stream never transfers or detaches what it is given, and nothing writes into it.
// Its UTF-8 size is kept beside it, so the queues of a broadcast don't each measure it again.
let lastFrozenEvent: SSEEvent | undefined;
let lastFrozenText = "";
let lastFrozenSize = 0;
let lastText = "";
let lastBytes: Uint8Array = new Uint8Array(0);
/** The UTF-8 size of the text `encodeOnce` returned last. */
let encodedSize = 0;

function encodeOnce(event: SSEEvent): string {
  if (event === lastFrozenEvent) {
    encodedSize = lastFrozenSize;
    return lastFrozenText;
  }
  const text = encodeEvent(event);
  encodedSize = EventQueue.sizeOf(text);
  if (Object.isFrozen(event)) {
    lastFrozenEvent = event;
    lastFrozenText = text;
    lastFrozenSize = encodedSize;
  }
  return text;
}

function bytesOf(text: string): Uint8Array {
  if (text !== lastText) {
    lastBytes = ENCODER.encode(text);
    lastText = text;
  }
  return lastBytes;
}
const DEFAULT_FIRST = encodeComment();
const DEFAULT_FIRST_BYTES = ENCODER.encode(DEFAULT_FIRST);
const KEEP_ALIVE = encodeComment();
const ignore = () => {};

/** Reasons after which what is queued is still written before the body ends. */
const GRACEFUL: ReadonlySet<SSECloseReason> = new Set([
  "producer-done",
  "producer-error",
  "max-duration",
  "aborted",
]);

/** A rejected promise that never counts as unhandled: the error is reported elsewhere too. */
function handledRejection(error: unknown): Promise<void> {
  const promise = Promise.reject(error);
  promise.catch(ignore);
  return promise;
}

/** Sends accepted past the half-full mark wait on this until the network next drains the queue. */
interface Drained {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** What a connection's producer is told when the connection closes: stop producing. */
export interface ConnectionSource {
  /** Called once, when the connection closes, with the close reason as an error. */
  stop(error: SSECloseError): void;
}

/**
 * One client's event stream: a bounded queue of encoded events, a pull-based body that takes the
 * whole queue per pull (one chunk per burst), the timers it owns (keep-alive and slow-client
 * check, max duration) and the one close signal. `sseResponse` builds one per response.
 *
 * Producers either `send` (a promise that waits at half full; writes are coalesced over a few
 * microtask hops) or, inside the library, `push` then `flush` (synchronous: a broadcast writes each
 * subscriber's bytes in the publisher's own call, as a hand-written fan-out loop would).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseConnection } from "./connection.ts";
 * import { resolveOptions } from "./options.ts";
 * const connection = new ResponseConnection({}, resolveOptions({}, 15_000));
 * connection.send({ data: "hi" });
 * connection.close("producer-done");
 * assert.equal(await new Response(connection.body).text(), ":\n\ndata: hi\n\n");
 * ```
 */
export class ResponseConnection implements UnderlyingDefaultSource<Uint8Array> {
  /** The response body: UTF-8 bytes, pulled by the network. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #onError: SSEResponseOptions["onError"];
  readonly #onClose: SSEResponseOptions["onClose"];
  readonly #limits: ResolvedOptions;
  readonly #clock: SSEClock;
  readonly #logger: SSELogger;
  readonly #queue: EventQueue;
  // Created when first asked for: many sources (streams, iterables) never look at it, and an
  // AbortController is a good part of an idle connection's memory.
  #abort: AbortController | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #first: Uint8Array | undefined;
  #closed = false;
  #reason: SSECloseReason | undefined;
  #closeError: SSECloseError | undefined;
  /** The network asked for bytes (a pending `pull()`) and none were written since. */
  #wanted = false;
  #flushScheduled = false;
  #flushSeen = 0;
  #drained: Drained | undefined;
  // Timers: on Deno and Bun a shared ticker wakes the connection (see ticker.ts); elsewhere the
  // connection owns one timer, re-armed for its next due time. Either way: keep-alive,
  // slow-client check and max duration, all cleared on close.
  #ticker: Ticker | undefined;
  #timer: unknown;
  #durationAt = Infinity;
  #lastWriteAt: number;
  #keepAliveAt = 0;
  #detach: (() => void)[] | undefined;
  #closedPromise: Promise<SSECloseReason> | undefined;
  #resolveClosed: ((reason: SSECloseReason) => void) | undefined;
  /** Set by the source driver: stops the producer (cancels a stream, returns an iterator). */
  source: ConnectionSource | undefined;

  /**
   * `request` is watched for a disconnect where the body's `cancel()` doesn't report one; it is
   * not kept (nor is `options`), so a long-lived stream doesn't hold the request and its headers.
   */
  constructor(options: SSEResponseOptions, limits: ResolvedOptions, request?: Request) {
    this.#onError = options.onError;
    this.#onClose = options.onClose;
    this.#limits = limits;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? console;
    this.#queue = new EventQueue(limits.maxQueuedEvents, limits.maxQueuedBytes);
    this.#lastWriteAt = this.#clock.now();
    counters.open++;
    counters.totalOpened++;

    // The first bytes: `retry:` (its block has no data, so it dispatches nothing) and a comment.
    const retry = options.retryMs === undefined
      ? ""
      : encodeEvent({ retry: options.retryMs }).slice(0, -1);
    const first = retry + encodeComment(options.openComment ?? "");
    // The usual first bytes are one shared array: chunks are only read, never transferred.
    const firstBytes = first === DEFAULT_FIRST ? DEFAULT_FIRST_BYTES : ENCODER.encode(first);
    // highWaterMark 0: nothing is pulled ahead of the network, so backpressure reaches the queue.
    // The connection is the body's underlying source itself (start, pull, cancel below): one
    // object less per idle connection.
    this.#first = firstBytes;
    this.body = new ReadableStream<Uint8Array>(this, { highWaterMark: 0 });

    this.#listen(disconnectSignal(request), "client-disconnected");
    this.#listen(options.signal, "aborted");
    if (this.#closed) return;
    if (limits.maxDurationMs !== undefined) {
      const jitter = limits.maxDurationJitter * this.#clock.random();
      this.#durationAt = this.#lastWriteAt +
        Math.max(1, Math.round(limits.maxDurationMs * (1 - jitter)));
    }
    this.#ticker = sharedTickerFor(
      this.#clock,
      limits.keepAliveMs,
      limits.slowClientTimeoutMs,
      limits.maxDurationMs,
    );
    if (this.#ticker) this.#ticker.add(this);
    else this.#arm();
  }

  /** Whether the close signal has fired. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The close reason, once closed. */
  get reason(): SSECloseReason | undefined {
    return this.#reason;
  }

  /** Aborts (once) when the stream closes; its reason is an {@link SSECloseError}. */
  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#closed) this.#abort.abort(this.#closeError);
    }
    return this.#abort.signal;
  }

  /** The body's start(): keeps the controller, sends the first bytes. */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
    controller.enqueue(this.#first!);
    this.#first = undefined;
  }

  /**
   * The body's pull(): the network wants bytes. No promise: the stream asks again only after its
   * reader took what was enqueued, so a flag is all the state a pull needs (a pending promise per
   * pull would cost an allocation, a resolution and a reaction per chunk).
   */
  pull(): void {
    if (this.#closed) {
      if (this.#queue.length > 0) this.#write();
      return;
    }
    this.#wanted = true;
    // Even with events waiting, let the producer add what it is about to (see #scheduleFlush).
    if (this.#queue.length > 0) this.#scheduleFlush();
  }

  /** The body's cancel(): the client went away. */
  cancel(cause: unknown): void {
    this.close("client-disconnected", cause);
  }

  /** Resolves with the close reason. */
  get closedPromise(): Promise<SSECloseReason> {
    if (!this.#closedPromise) {
      this.#closedPromise = this.#closed
        ? Promise.resolve(this.#reason!)
        : new Promise((resolve) => (this.#resolveClosed = resolve));
    }
    return this.#closedPromise;
  }

  /** Where refused events and producer errors are reported. */
  get logger(): SSELogger {
    return this.#logger;
  }

  /** Encodes and queues an event; see `SSEWriter.send`. */
  send(event: SSEEvent): Promise<void> {
    if (this.#closed) return handledRejection(this.#closeError);
    let text: string;
    try {
      text = encodeOnce(event);
    } catch (error) {
      this.#logger.error("Herald sseResponse: an event was refused and not sent.", error);
      return handledRejection(error);
    }
    return this.#offer(text, encodedSize);
  }

  /**
   * Queues an event for a producer that delivers synchronously (the hub): `true` while the queue
   * is under half of both bounds, `false` when the producer should wait for
   * {@link ResponseConnection.drained} before pushing more. The event is queued either way unless
   * the connection is closed (then `false`, and `closed` is true). An event the encoder refuses
   * is reported to the logger and skipped (`true`). Nothing is written until
   * {@link ResponseConnection.flush}.
   */
  push(event: SSEEvent): boolean {
    if (this.#closed) return false;
    let text: string;
    try {
      text = encodeOnce(event);
    } catch (error) {
      this.#logger.error("Herald sseResponse: an event was refused and not sent.", error);
      return true;
    }
    return this.#enqueue(text, encodedSize) && this.hasRoom;
  }

  /**
   * Writes what is queued now, as one chunk, if the network is waiting for bytes; otherwise the
   * network's next pull takes it. For a producer that knows its batch is complete (`push`).
   */
  flush(): void {
    if (!this.#wanted || this.#queue.length === 0) return;
    this.#wanted = false;
    this.#write();
  }

  /** Whether the queue is under half of both bounds: a producer may go on without waiting. */
  get hasRoom(): boolean {
    const queue = this.#queue;
    return queue.length * 2 <= queue.maxEvents && queue.bytes * 2 <= queue.maxBytes;
  }

  /**
   * Resolves once the queue is under half of its bounds again (at once if it is), rejects with
   * the close error if the stream closes abruptly first.
   */
  drained(): Promise<void> {
    if (this.#closed) {
      return GRACEFUL.has(this.#reason!) ? RESOLVED : handledRejection(this.#closeError);
    }
    return this.hasRoom ? RESOLVED : this.#drainedPromise();
  }

  /** Queues a comment. */
  comment(text = ""): Promise<void> {
    if (this.#closed) return handledRejection(this.#closeError);
    if (typeof text !== "string") return this.send({ comment: text });
    const encoded = encodeComment(text);
    return this.#offer(encoded, EventQueue.sizeOf(encoded));
  }

  /**
   * Reports a producer's failure and ends the stream (`producer-error`). The client gets only
   * what `onError` maps the error to, never the error itself.
   */
  fail(error: unknown): void {
    if (this.#closed) {
      this.#logger.error("Herald sseResponse: the producer failed after the stream closed.", error);
      return;
    }
    this.#logger.error("Herald sseResponse: the producer failed; the stream ends.", error);
    const onError = this.#onError;
    if (onError) {
      try {
        const safe = onError(error);
        // The last word: queued even past the bounds, it is one event and the stream then ends.
        if (safe) this.#queue.push(encodeEvent(safe));
      } catch (mapError) {
        this.#logger.error("Herald sseResponse: onError threw; nothing was sent for it.", mapError);
      }
    }
    this.close("producer-error", error);
  }

  /** Fires the close signal once: clears every timer, settles every pending send, ends the body. */
  close(reason: SSECloseReason, cause?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reason = reason;
    counters.open--;
    counters.closedByReason[reason] = (counters.closedByReason[reason] ?? 0) + 1;
    this.#ticker?.delete(this);
    this.#ticker = undefined;
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      counters.timers--;
    }
    if (this.#detach) { for (const detach of this.#detach) detach(); }
    this.#detach = undefined;
    const error = new SSECloseError(reason, cause === undefined ? undefined : { cause });
    this.#closeError = error;
    const drained = this.#drained;
    this.#drained = undefined;
    if (GRACEFUL.has(reason)) {
      this.#endBody();
      drained?.resolve(); // what they sent was written out with the rest
    } else {
      this.#dropBody(reason);
      drained?.reject(error);
    }
    this.#abort?.abort(error);
    const source = this.source;
    this.source = undefined;
    source?.stop(error);
    this.#resolveClosed?.(reason);
    if (!this.#closedPromise) this.#closedPromise = Promise.resolve(reason);
    try {
      this.#onClose?.(reason);
    } catch (onCloseError) {
      this.#logger.error("Herald sseResponse: onClose threw.", onCloseError);
    }
  }

  #listen(signal: AbortSignal | undefined, reason: SSECloseReason): void {
    if (!signal) return;
    if (signal.aborted) return this.close(reason, signal.reason);
    const onAbort = () => this.close(reason, signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    (this.#detach ??= []).push(() => signal.removeEventListener("abort", onAbort));
  }

  /**
   * Accepts an encoded event into the queue. Past half of either bound the returned promise waits
   * for the network's next drain, so a producer that awaits `send` slows to the client's pace
   * (and a stream source is read only as the queue has room); the other half absorbs bursts.
   * An event that does not fit at all triggers the policy: a producer that does not wait, and a
   * client that does not keep up.
   */
  #offer(text: string, size: number): Promise<void> {
    if (!this.#enqueue(text, size)) return handledRejection(this.#closeError);
    this.#scheduleFlush();
    return this.hasRoom ? RESOLVED : this.#drainedPromise();
  }

  /** Queues encoded text under the queue policy; `false` if that closed the stream. */
  #enqueue(text: string, size: number): boolean {
    const queue = this.#queue;
    if (queue.length > 0 && !queue.fits(size)) {
      if (this.#limits.queuePolicy === "close") {
        this.close("slow-client");
        return false;
      }
      while (!queue.fits(size) && queue.dropOldest());
    }
    queue.push(text, size);
    return true;
  }

  #drainedPromise(): Promise<void> {
    if (!this.#drained) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(ignore);
      this.#drained = { promise, resolve, reject };
    }
    return this.#drained.promise;
  }

  /**
   * Coalescing: the flush waits, one microtask hop at a time, while the queue is still growing,
   * so a producer that sends in a loop (even one that awaits each `send`, which resolves at once)
   * has its events written as one chunk once it pauses or the queue is half full.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled || !this.#wanted) return;
    this.#flushScheduled = true;
    // -1: the first check always waits one more hop, for the continuation of an awaited send.
    this.#flushSeen = -1;
    queueMicrotask(this.#flushCheck ??= () => this.#checkFlush());
  }

  /** Made on the first flush: an idle connection never needs it. */
  #flushCheck: (() => void) | undefined;

  #checkFlush(): void {
    const queue = this.#queue;
    if (queue.length !== this.#flushSeen && this.hasRoom) {
      this.#flushSeen = queue.length;
      queueMicrotask(this.#flushCheck!);
      return;
    }
    this.#flushScheduled = false;
    if (!this.#wanted || queue.length === 0) return;
    this.#wanted = false;
    this.#write();
  }

  #write(): void {
    const text = this.#queue.drain();
    try {
      this.#controller.enqueue(bytesOf(text));
    } catch (error) {
      return this.close("write-failed", error);
    }
    this.#lastWriteAt = this.#clock.now();
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.resolve();
  }

  /** Graceful end: what is queued goes out, then the body closes. */
  #endBody(): void {
    this.#wanted = false;
    try {
      if (this.#queue.length > 0) {
        this.#controller.enqueue(ENCODER.encode(this.#queue.drain()));
      }
      this.#controller.close();
    } catch (error) {
      // The body was cancelled or errored already (the client left as we closed): nothing can
      // be written any more, and the close reason already says how the stream ended.
      this.#queue.clear();
      void error;
    }
  }

  /** Abrupt end: the client is gone or stuck; what is queued is dropped. */
  #dropBody(reason: SSECloseReason): void {
    this.#queue.clear();
    this.#wanted = false;
    try {
      // A stuck client's connection is errored, so the runtime drops it instead of waiting to
      // flush what it already holds; a departed client's body just closes.
      if (reason === "slow-client") {
        // Deno and Bun print a body stream's error: one line per stuck client, not a stack.
        const bodyError = new SSECloseError(reason);
        bodyError.stack = `${bodyError.name}: ${bodyError.message}`;
        this.#controller.error(bodyError);
      } else this.#controller.close();
    } catch (alreadyEnded) {
      // cancel() came first: the stream is closed already, which is what we wanted.
      void alreadyEnded;
    }
  }

  /**
   * The periodic jobs, at their due times: end the stream at `maxDurationMs`; close a client that
   * took nothing for `slowClientTimeoutMs` while events waited for it; write a keep-alive comment
   * when nothing was written for `keepAliveMs` (on Workers that write is also how a disconnect is
   * noticed). Called by the shared ticker every period, or by this connection's own timer.
   */
  wake(now: number): void {
    if (this.#closed) return;
    if (now >= this.#durationAt) return this.close("max-duration");
    const { keepAliveMs, slowClientTimeoutMs } = this.#limits;
    if (this.#queue.length > 0) {
      if (now - this.#lastWriteAt >= slowClientTimeoutMs) this.close("slow-client");
      return;
    }
    if (keepAliveMs > 0 && now - Math.max(this.#lastWriteAt, this.#keepAliveAt) >= keepAliveMs) {
      this.#keepAliveAt = now;
      this.#queue.push(KEEP_ALIVE);
      this.#scheduleFlush();
    }
  }

  /** Own-timer mode: sets the one timer for the next due time. */
  #arm(): void {
    const { keepAliveMs, slowClientTimeoutMs } = this.#limits;
    const now = this.#clock.now();
    let due = Math.min(this.#durationAt, this.#lastWriteAt + slowClientTimeoutMs);
    if (keepAliveMs > 0) {
      // With events waiting, look again after keepAliveMs anyway, so a keep-alive follows soon
      // once the queue drains.
      const keepAliveDue = this.#queue.length > 0
        ? now + keepAliveMs
        : Math.max(this.#lastWriteAt, this.#keepAliveAt) + keepAliveMs;
      due = Math.min(due, keepAliveDue);
    }
    counters.timers++;
    this.#onTimer ??= () => {
      this.#timer = undefined;
      counters.timers--;
      this.wake(this.#clock.now());
      if (!this.#closed) this.#arm();
    };
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(1, due - now));
  }

  #onTimer: (() => void) | undefined;
}
