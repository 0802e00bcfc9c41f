// One subscriber: live first, then history strictly after the cursor, then live with the overlap
// dropped by position. Read as a stream (`hub.subscribe`), a publisher only appends to this
// subscriber's live buffer and resolves a promise; the events move in the stream's `pull`.
// Attached to a response (`hub.response`), an idle subscriber on Deno, Bun, Node or Vercel Edge
// holds no pending promise at all: the publisher's call queues the events into the connection and
// writes them, as a hand-written fan-out loop would. On Workers the events move in the loop of the
// request that owns the response, woken by the publisher (Workers flush another request's stream
// only when that request does I/O of its own).
//
// Shaped for fan-out at 10k subscribers per isolate: one object per subscriber with its state in
// fields and its behaviour on the prototype (no closures per subscriber), the subscription itself
// is the broker's listener, and the cursor string and the event object of a broadcast are shared
// by every subscriber that holds the same cursor (see `eventFor`).
import { requestScopedIO } from "../capabilities.ts";
import type { SSEEvent } from "../protocol/types.ts";
import type { ConnectionSource, ResponseConnection } from "../server/connection.ts";
import type { Broker, BrokerEntry, BrokerListener, BrokerRead, TopicRead } from "./broker.ts";
import { encodeCursor, encodeCursorPosition } from "./cursor.ts";
import type { CursorSigner } from "./cursor_signing.ts";
import { BrokerError, HubCursorError } from "./errors.ts";
import { HISTORY_LOST_EVENT, type HistoryLost } from "./history_lost.ts";
import type { DeliveryInfo } from "./hub_options.ts";
import { comparePositions, ZERO_POSITION } from "./position.ts";
import type { PresenceTicket, PresenceTracker } from "./presence.ts";
import { STREAM_END_EVENT } from "./stream_end.ts";

/** What every subscriber of one hub shares: made once per hub, not once per subscriber. */
export interface SubscriberSettings {
  broker: Broker;
  replayPageSize: number;
  maxQueuedEvents: number;
  signer: CursorSigner | undefined;
  /** Where readers of running streams are counted (a broker with streams), or `undefined`. */
  presence: PresenceTracker | undefined;
}

/** What the hub resolved before the stream exists (so cursor errors become a 400). */
export interface SubscriptionPlan {
  settings: SubscriberSettings;
  /** Sorted and validated; may be shared with other subscribers, never changed. */
  topics: readonly string[];
  tag: string;
  /** The cursor's epoch and positions, or `undefined` for a fresh subscription (start now). */
  cursor: { epoch: string; positions: string[] } | undefined;
  signal: AbortSignal | undefined;
  /** Told of each published event handed to the connection (`attach` only), or `undefined`. */
  onDeliver: ((info: DeliveryInfo) => void) | undefined;
}

const NO_PAGE: BrokerEntry[] = [];

/**
 * One subscriber's state. Made by {@link openSubscription}; read either as a stream
 * ({@link Subscription.toStream}) or delivered into a response's connection
 * ({@link Subscription.attach}).
 * It is also the broker's listener ({@link BrokerListener}): the broker calls `onEntries` and
 * `onError` as its methods.
 *
 * @example
 * ```ts
 * import { MemoryBroker } from "./memory_broker.ts";
 * import { openSubscription } from "./subscription.ts";
 * import assert from "node:assert/strict";
 * const broker = new MemoryBroker();
 * const settings = {
 *   broker, replayPageSize: 100, maxQueuedEvents: 100, signer: undefined, presence: undefined,
 * };
 * const subscription = await openSubscription({
 *   settings, topics: ["t"], tag: "x", cursor: undefined, signal: undefined, onDeliver: undefined,
 * });
 * const reader = subscription.toStream().getReader();
 * const start = (await reader.read()).value!;
 * assert.deepEqual(Object.keys(start), ["id"]);
 * assert.match(start.id!, /^h1\./);
 * await reader.cancel();
 * ```
 */
export class Subscription implements BrokerListener, ConnectionSource {
  readonly topics: readonly string[];
  readonly #settings: SubscriberSettings;
  readonly #abortSignal: AbortSignal | undefined;
  readonly #onDeliver: ((info: DeliveryInfo) => void) | undefined;
  /** Whether the broker may still hold this listener: until `close` or a failure unlistens. */
  #listening = true;
  /** Live entries not yet taken: topic index, entries, topic index, entries, ... */
  // Made on first use: a parked subscriber never buffers.
  #live: (number | BrokerEntry[])[] | undefined;
  #liveCount = 0;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  /** Events ready to go out, in order. */
  #out: SSEEvent[] = [];
  #epoch = "";
  #positions: string[] = [];
  #parts: string[] = [];
  #prefix = "";
  /** Replay state per topic (made only when there is a cursor to replay from). */
  #more: boolean[] | undefined;
  #pages: BrokerEntry[][] | undefined;
  #ended = false;
  /** Per topic, whether its stream has ended (made when a topic holds one). */
  #streamEnded: boolean[] | undefined;
  /** Every topic's stream has ended: the subscription ends once `#out` is sent. */
  #finished = false;
  #atEnd = false;
  #presence: PresenceTicket | undefined;
  /** Per event of `#out`, what `onDeliver` is told (only when there is an `onDeliver`). */
  #outInfo: (DeliveryInfo | undefined)[] | undefined;
  /** The connection `attach` delivers into. */
  #sink: ResponseConnection | undefined;
  /**
   * Attached, idle and synchronous: nothing to send, no loop running, and the broker's
   * `onEntries` hands the events to the connection itself (see {@link Subscription.attach}).
   */
  #parked = false;
  /** With a signer: how many events at the head of `#out` are signed already. */
  #signedCount = 0;

  constructor(plan: SubscriptionPlan) {
    this.#settings = plan.settings;
    this.topics = plan.topics;
    this.#abortSignal = plan.signal;
    this.#onDeliver = plan.onDeliver;
    if (plan.onDeliver) this.#outInfo = [];
  }

  /**
   * Whether the cursor was already at the end of every topic's stream when the subscription
   * opened: there is nothing to send, ever (`hub.response` answers 204).
   */
  get atEnd(): boolean {
    return this.#atEnd;
  }

  /** The broker's live feed (BrokerListener): buffer, and wake the subscriber. */
  onEntries(topic: string, entries: BrokerEntry[]): void {
    const topics = this.topics;
    // Most subscriptions hold one topic: no lookup structure per subscriber.
    const topicIndex = topics.length === 1 ? (topic === topics[0] ? 0 : -1) : topics.indexOf(topic);
    if (topicIndex === -1 || this.#failure) return;
    if (this.#parked) {
      this.#take(topicIndex, entries);
      this.#deliver();
      return;
    }
    (this.#live ??= []).push(topicIndex, entries);
    this.#liveCount += entries.length;
    if (this.#liveCount > this.#settings.maxQueuedEvents) {
      this.#live!.length = 0;
      this.#fail(
        new BrokerError(
          "slow-subscriber",
          `This subscriber fell more than ${this.#settings.maxQueuedEvents} events behind and was ` +
            "disconnected; the client resumes from its cursor.",
        ),
      );
      return;
    }
    this.#signal();
  }

  /** The broker lost the feed for good (BrokerListener). */
  onError(error: Error): void {
    this.#fail(error);
  }

  /** Also the plan signal's listener: `handleEvent` spares a closure per subscriber. */
  handleEvent(): void {
    this.close();
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#unlisten();
    if (this.#parked) return this.#failSink(error);
    this.#signal();
  }

  /** The attached subscription failed: the connection reports it and ends. */
  #failSink(error: unknown): void {
    this.#parked = false;
    this.close();
    if (!this.#ended) this.#sink!.fail(error);
  }

  #unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#settings.broker.unlisten(this);
  }

  /** Stops listening; idempotent. */
  close(): void {
    this.#unlisten();
    this.#abortSignal?.removeEventListener("abort", this);
    if (this.#presence) {
      this.#settings.presence!.leave(this.#presence);
      this.#presence = undefined;
    }
  }

  /** Subscribes to the live feed, reads the broker's state and first page, checks the cursor. */
  async open(plan: SubscriptionPlan): Promise<void> {
    const { broker, replayPageSize } = this.#settings;
    const topics = this.topics;
    this.#abortSignal?.addEventListener("abort", this, { once: true });
    let first: BrokerRead;
    try {
      // Live first: everything published from here on lands in `#live`, buffered until replay
      // ends.
      await broker.listen(this);
      const after = plan.cursor?.positions ?? topics.map(() => ZERO_POSITION);
      first = await broker.read(
        topics.map((topic, i) => ({ topic, after: after[i] })),
        plan.cursor ? replayPageSize : 0,
      );
      this.#epoch = first.epoch;
      if (!plan.cursor) {
        // A fresh subscriber starts at the heads: nothing before now is replayed.
        this.#positions = first.topics.map((t) => t.head);
      } else if (plan.cursor.epoch !== first.epoch) {
        // The broker was reset since the cursor was made: every topic starts over, and says so.
        this.#positions = topics.map(() => ZERO_POSITION);
        first = await broker.read(
          topics.map((topic) => ({ topic, after: ZERO_POSITION })),
          replayPageSize,
        );
        this.#epoch = first.epoch;
      } else {
        this.#positions = [...plan.cursor.positions];
        first.topics.forEach((t, i) => {
          if (comparePositions(this.#positions[i], t.head) > 0) {
            throw new HubCursorError(
              "cursor-ahead",
              `Last-Event-ID points past the newest event of topic "${t.topic}": it was forged or ` +
                "belongs to another deployment. Reconnect without Last-Event-ID.",
            );
          }
        });
      }
    } catch (error) {
      this.close();
      throw error;
    }

    this.#prefix = cursorPrefix(this.#epoch, plan.tag);
    this.#parts = this.#positions.map(encodeCursorPosition);
    if (first.topics.some((t) => t.stream)) {
      this.#openStreams(first.topics);
      if (this.#atEnd) {
        this.close();
        return;
      }
    }
    if (plan.cursor) {
      this.#more = topics.map(() => false);
      this.#pages = topics.map(() => NO_PAGE);
      const reset = plan.cursor.epoch !== this.#epoch;
      first.topics.forEach((t, i) => {
        this.#accept(i, t, reset ? "reset" : undefined, plan.cursor!.positions[i]);
      });
      this.#drainPages();
    } else {
      // An id-only event: the client holds a cursor before the first event arrives, so a
      // reconnect in between resumes exactly instead of starting from "now" again.
      this.#out.push({ id: this.#cursor() });
      this.#outInfo?.push(undefined);
    }
  }

  /**
   * Notes the topics that hold streams: one whose end is at or before this subscriber's position
   * has nothing more to send; readers of running ones are counted for presence.
   */
  #openStreams(reads: TopicRead[]): void {
    const ended = this.topics.map(() => false);
    const running: string[] = [];
    reads.forEach((t, i) => {
      if (!t.stream) return;
      const end = t.stream.end;
      if (end === null) running.push(t.topic);
      else if (comparePositions(this.#positions[i], end) >= 0) ended[i] = true;
    });
    this.#streamEnded = ended;
    if (ended.every(Boolean)) {
      this.#finished = true;
      this.#atEnd = true;
      return;
    }
    if (running.length > 0 && this.#settings.presence) {
      this.#presence = this.#settings.presence.join(running);
    }
  }

  /** Topic `i` sent its stream's end: it has nothing more, and when none has, the end. */
  #streamEnd(i: number): void {
    const ended = this.#streamEnded ??= this.topics.map(() => false);
    ended[i] = true;
    if (this.#presence) this.#settings.presence!.leave(this.#presence, [this.topics[i]]);
    if (ended.every(Boolean)) this.#finished = true;
  }

  #setPosition(i: number, position: string): void {
    this.#positions[i] = position;
    this.#parts[i] = encodeCursorPosition(position);
  }

  #cursor(): string {
    const parts = this.#parts;
    if (parts.length !== 1) return this.#prefix + parts.join(".");
    // Subscribers of one topic at the same position make the same cursor: make it once.
    const prefix = this.#prefix;
    const part = parts[0];
    if (prefix !== lastPrefix || part !== lastPart) {
      lastPrefix = prefix;
      lastPart = part;
      lastCursor = prefix + part;
    }
    return lastCursor;
  }

  /** Takes one topic's read: a loss event if history is missing, then its entries as a page. */
  #accept(i: number, t: TopicRead, reason: "reset" | undefined, requested: string): void {
    const lost = reason ??
      (comparePositions(t.lostThrough, this.#positions[i]) > 0 ? "trimmed" : "");
    if (lost) {
      if (lost === "trimmed") this.#setPosition(i, t.lostThrough);
      const data: HistoryLost = {
        topic: t.topic,
        reason: lost,
        requested,
        resumedFrom: t.entries[0]?.id ?? null,
      };
      this.#out.push({ event: HISTORY_LOST_EVENT, data, id: this.#cursor() });
      this.#outInfo?.push(undefined);
    }
    this.#pages![i] = t.entries;
    this.#more![i] = t.more;
  }

  /** Moves replayed entries to `#out` in position order across topics, as far as is safe. */
  #drainPages(): void {
    const pages = this.#pages!;
    const more = this.#more!;
    for (;;) {
      let best = -1;
      for (let i = 0; i < pages.length; i++) {
        // A topic with more to read and nothing in hand could hold the next-oldest entry: stop.
        if (pages[i].length === 0) {
          if (more[i]) return;
          continue;
        }
        if (best === -1 || comparePositions(pages[i][0].id, pages[best][0].id) < 0) best = i;
      }
      if (best === -1) {
        // Replay is over: live from here on.
        this.#pages = undefined;
        this.#more = undefined;
        return;
      }
      this.#emit(best, pages[best].shift()!, true);
    }
  }

  #emit(i: number, entry: BrokerEntry, replayed: boolean): void {
    this.#setPosition(i, entry.id);
    this.#out.push(eventFor(this.#cursor(), entry));
    const name = entry.event.event;
    if (this.#outInfo) {
      this.#outInfo.push(
        name?.startsWith("herald.") ? undefined : {
          topic: this.topics[i],
          publishedAtMs: Number(entry.id.slice(0, entry.id.indexOf("-"))),
          replayed,
        },
      );
    }
    if (name === STREAM_END_EVENT) this.#streamEnd(i);
  }

  async #readMore(): Promise<void> {
    const pages = this.#pages!;
    const more = this.#more!;
    const wanted = this.topics.flatMap((_topic, i) => more[i] && pages[i].length === 0 ? [i] : []);
    const read = await this.#settings.broker.read(
      wanted.map((i) => ({ topic: this.topics[i], after: this.#positions[i] })),
      this.#settings.replayPageSize,
    );
    if (read.epoch !== this.#epoch) {
      throw new BrokerError("broker-reset", "The broker was reset during replay; resume.");
    }
    read.topics.forEach((t, k) =>
      this.#accept(wanted[k], t, undefined, this.#positions[wanted[k]])
    );
  }

  #drainLive(): void {
    const live = this.#live;
    if (live === undefined || live.length === 0) return;
    for (let k = 0; k < live.length; k += 2) {
      this.#take(live[k] as number, live[k + 1] as BrokerEntry[]);
    }
    live.length = 0;
    this.#liveCount = 0;
  }

  /** Moves one topic's live entries to `#out`. */
  #take(topicIndex: number, entries: BrokerEntry[]): void {
    const positions = this.#positions;
    for (const entry of entries) {
      // The overlap with replay (and anything older than the cursor) is dropped by position.
      if (comparePositions(entry.id, positions[topicIndex]) > 0) {
        this.#emit(topicIndex, entry, false);
      }
    }
  }

  /**
   * Fills `#out` with the next events: resolves `true` when there are some, `false` when the
   * plan's signal ended the subscription; rejects with the failure once `#out` is empty.
   * Synchronous (no promise) when events are at hand, the usual case right after a wake.
   */
  #next(): boolean | Promise<boolean> {
    for (;;) {
      if (this.#out.length === 0) {
        if (this.#pages) return this.#replayThenNext();
        this.#drainLive();
      }
      if (this.#out.length > 0) return true;
      // A closed connection (sendTo) ends quietly: nobody is left to tell of a failure.
      if (!this.#ended && !this.#finished) {
        if (this.#failure) throw this.#failure;
        if (!this.#abortSignal?.aborted) {
          if (!this.#live?.length) return this.#sleepThenNext();
          continue;
        }
      }
      this.#ended = true;
      this.close();
      return false;
    }
  }

  async #replayThenNext(): Promise<boolean> {
    await this.#readMore();
    this.#drainPages();
    return await this.#next();
  }

  async #sleepThenNext(): Promise<boolean> {
    await new Promise<void>((resolve) => (this.#wake = resolve));
    return await this.#next();
  }

  /** Takes what is in `#out`, signed if the hub signs. */
  async #signed(event: SSEEvent): Promise<SSEEvent> {
    // Events may be shared between subscribers (see eventFor): never edit one in place.
    if (event.id === undefined) return event;
    return { ...event, id: await this.#settings.signer!.sign(event.id) };
  }

  /** The subscriber as a pull-based stream of events (what `hub.subscribe` returns). */
  toStream(): ReadableStream<SSEEvent> {
    return new ReadableStream<SSEEvent>(new SubscriptionSource(this), { highWaterMark: 0 });
  }

  /** One pull of the stream: enqueue every ready event, or close at the end. */
  async pullInto(controller: ReadableStreamDefaultController<SSEEvent>): Promise<void> {
    try {
      let ready = this.#next();
      if (ready !== true && ready !== false) ready = await ready;
      if (!ready) {
        controller.close();
        return;
      }
      const out = this.#out;
      const signer = this.#settings.signer;
      for (const event of out) controller.enqueue(signer ? await this.#signed(event) : event);
      out.length = 0;
      if (this.#outInfo) this.#outInfo.length = 0;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * Delivers the subscriber's events into a response's connection until either ends: the
   * connection's close stops the subscriber (it becomes the connection's source); a failure is
   * handed to the connection (`fail`), which reports it and ends; once every topic's stream has
   * sent its end, the connection closes (`producer-done`). Backpressure as a stream source gets
   * it: past half of the connection's queue, nothing more is handed over until the client took
   * what waits (and the subscriber's own bound, `maxQueuedEvents`, then ends it as
   * `slow-subscriber`).
   *
   * Where I/O may cross requests, an idle subscriber is parked: no promise, no suspended call;
   * the broker's `onEntries` queues the events and flushes the connection in the publisher's
   * call. A loop runs only while history is replayed, events are signed (a `cursorSecret`), or
   * the client is waited for. On Workers the loop always runs, and a publish wakes it.
   */
  attach(connection: ResponseConnection): void {
    this.#sink = connection;
    connection.source = this;
    if (!this.#pages && this.#synchronous()) {
      // What was published since `open` listened comes first; parked, `#live` stays empty.
      this.#drainLive();
      this.#parked = true;
      this.#deliver();
    } else void this.#run(connection);
  }

  /** The connection closed (ConnectionSource): stop listening, and end the loop. */
  stop(): void {
    this.#ended = true;
    this.#parked = false;
    this.close();
    this.#signal();
  }

  #synchronous(): boolean {
    return !requestScopedIO && this.#settings.signer === undefined;
  }

  /** Parked: hands `#out` to the connection and writes it, or starts the loop to wait. */
  #deliver(): void {
    const sink = this.#sink!;
    try {
      if (this.#out.length > 0 && !this.#pushOut(sink)) {
        if (sink.closed) return; // its close stopped this subscriber
        this.#parked = false;
        void this.#run(sink);
        return;
      }
    } catch (error) {
      // onDeliver threw: this subscriber ends, the broker's other listeners go on.
      return this.#failSink(error);
    }
    if (this.#finished) this.#finish(sink);
  }

  /** Every topic's stream has sent its end: stop listening, and end the response gracefully. */
  #finish(sink: ResponseConnection): void {
    this.#parked = false;
    this.close();
    sink.close("producer-done");
  }

  /**
   * Hands `#out` to the connection in order and writes it as one chunk. `true` when everything
   * was handed over with room to spare; `false` when the connection closed or its queue is past
   * half (what was not handed over stays in `#out`).
   */
  #pushOut(sink: ResponseConnection): boolean {
    const out = this.#out;
    const outInfo = this.#outInfo;
    let k = 0;
    let room = true;
    while (k < out.length) {
      room = sink.push(out[k]);
      if (sink.closed) return false;
      const info = outInfo?.[k];
      k++;
      if (info) this.#onDeliver!(info);
      if (!room) break;
    }
    if (k === out.length) {
      out.length = 0;
      if (outInfo) outInfo.length = 0;
    } else {
      out.splice(0, k);
      outInfo?.splice(0, k);
    }
    sink.flush();
    return room;
  }

  /**
   * The attached subscriber's loop: replays history, signs, waits for a slow client; parks once
   * idle where it may, or (Workers) sleeps until a publish wakes it.
   */
  async #run(sink: ResponseConnection): Promise<void> {
    const out = this.#out;
    const signer = this.#settings.signer;
    try {
      for (;;) {
        while (!sink.hasRoom) {
          // The client has half a queue to take first. A publish wakes the loop too (it only
          // buffers here), and so does a failure (this subscriber fell too far behind), so a
          // stalled client's stream ends now, not at its slow-client timeout.
          const drained = sink.drained();
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            drained.then(resolve, resolve);
          });
          this.#wake = undefined;
          if (this.#ended) return;
          if (this.#failure && !sink.hasRoom) throw this.#failure;
        }
        if (this.#ended) return;
        if (out.length === 0) {
          if (this.#pages) {
            await this.#readMore();
            this.#drainPages();
            continue;
          }
          this.#drainLive();
        }
        if (out.length > 0) {
          if (signer) {
            // Events may be shared between subscribers (see eventFor): signed copies replace them.
            for (let k = this.#signedCount; k < out.length; k++) {
              out[k] = await this.#signed(out[k]);
            }
            if (this.#ended) return;
          }
          if (!this.#pushOut(sink) && sink.closed) return;
          this.#signedCount = out.length;
          continue;
        }
        if (this.#finished) return this.#finish(sink);
        if (this.#failure) throw this.#failure;
        if (this.#live?.length) continue;
        if (this.#synchronous()) {
          this.#parked = true;
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } catch (error) {
      this.#failSink(error);
    }
  }
}

/** The stream's underlying source: one small object, its methods on the prototype. */
class SubscriptionSource implements UnderlyingDefaultSource<SSEEvent> {
  constructor(readonly subscription: Subscription) {}
  pull(controller: ReadableStreamDefaultController<SSEEvent>): Promise<void> {
    return this.subscription.pullInto(controller);
  }
  cancel(): void {
    this.subscription.close();
  }
}

/**
 * Opens the live feed, reads the broker's state and the first page of history, checks the cursor
 * against it, and returns the subscriber. Throws {@link HubCursorError} for a cursor that points
 * past a topic's newest event.
 *
 * @example
 * ```ts
 * import { MemoryBroker } from "./memory_broker.ts";
 * import { openSubscription } from "./subscription.ts";
 * import assert from "node:assert/strict";
 * const settings = {
 *   broker: new MemoryBroker(), replayPageSize: 100, maxQueuedEvents: 100, signer: undefined,
 *   presence: undefined,
 * };
 * const subscription = await openSubscription({
 *   settings, topics: ["t"], tag: "x", cursor: undefined, signal: undefined, onDeliver: undefined,
 * });
 * assert.deepEqual(subscription.topics, ["t"]);
 * assert.equal(subscription.atEnd, false);
 * subscription.close();
 * ```
 */
export async function openSubscription(plan: SubscriptionPlan): Promise<Subscription> {
  const subscription = new Subscription(plan);
  await subscription.open(plan);
  return subscription;
}

// Subscribers of the same topics under the same epoch share one prefix string.
let prefixEpoch = "";
let prefixTag = "";
let prefixText = "";

function cursorPrefix(epoch: string, tag: string): string {
  if (epoch !== prefixEpoch || tag !== prefixTag) {
    prefixText = encodeCursor(epoch, tag, []) + ".";
    prefixEpoch = epoch;
    prefixTag = tag;
  }
  return prefixText;
}

// The last one-topic cursor made (see Subscription.#cursor).
let lastPrefix = "";
let lastPart = "";
let lastCursor = "";

// Subscribers of the same topics with the same history hold the same cursor, and a publish reaches
// them one after another: they get the very same event object (one allocation per broadcast, not
// per subscriber, and an encoder may cache by identity). Events are read-only for consumers.
let sharedId = "";
let sharedEntry: BrokerEntry | undefined;
let sharedEvent: SSEEvent | undefined;

function eventFor(id: string, entry: BrokerEntry): SSEEvent {
  if (entry === sharedEntry && id === sharedId) return sharedEvent!;
  const event: SSEEvent = { id, data: entry.event.data };
  if (entry.event.event !== undefined) event.event = entry.event.event;
  // Frozen, so a response may encode it once for all its subscribers (see src/server/connection).
  Object.freeze(event);
  sharedId = id;
  sharedEntry = entry;
  sharedEvent = event;
  return event;
}
