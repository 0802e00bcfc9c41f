import type {
  BrokerEntry,
  BrokerListener,
  BrokerRead,
  CancelWatcher,
  HubEvent,
  PresenceTouch,
  StreamAppend,
  StreamAppendOptions,
  StreamBroker,
  StreamClaim,
  StreamClaimOptions,
  TopicRead,
} from "./broker.ts";
import { BrokerError } from "./errors.ts";
import { newEpoch } from "./epoch.ts";
import { ExpiryHeap } from "./expiry_heap.ts";
import { comparePositions, nextPosition, ZERO_POSITION } from "./position.ts";
import { type StreamEnd, streamEndEvent } from "./stream_end.ts";

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Events kept per topic; older ones are trimmed. Default 1000. */
  maxEventsPerTopic?: number;
  /**
   * Events older than this are trimmed, in ms, whether or not the topic is used again (each
   * operation of the broker expires what is due). Default: no age limit.
   */
  maxAgeMs?: number;
  /**
   * Events kept per resumable stream (a stream is not trimmed by `maxEventsPerTopic` or
   * `maxAgeMs`: it expires as a whole, `ttlMs` after its end). Default 100 000.
   */
  maxEventsPerStream?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. Tests inject their own. */
  now?: () => number;
  /** The broker's epoch. Default: a new random one (every `new MemoryBroker()` is a fresh store). */
  epoch?: string;
}

interface StreamState {
  fence: string;
  leaseUntilMs: number;
  start: string;
  ttlMs: number;
  seq: number;
  end: StreamEnd | undefined;
  endId: string | undefined;
  cancel: string | undefined;
  /** Each hub with readers, and until when its last report counts. */
  presence: Map<string, number>;
  /** The last moment a reader was known to be there (or the claim, if none ever was). */
  seenMs: number;
  /** When the stream's history and state go: `ttlMs` after its end, or `leaseMs + ttlMs` after
   * its last append. */
  expiresAtMs: number;
  /** The time of the expiry record queued for it. */
  queuedMs: number;
}

interface Topic {
  /** Retained entries live in `entries[start..]`; the front is compacted away in bulk. */
  entries: BrokerEntry[];
  start: number;
  head: string;
  lostThrough: string;
  stream: StreamState | undefined;
  /** The time of the newest age-expiry record queued for it. */
  ageQueuedMs: number;
}

/**
 * A broker for one isolate: per-topic history in memory, bounded by count and by age, with ids
 * made the way Redis' XADD makes them (`<ms>-<seq>`), and resumable streams
 * ({@link StreamBroker}). Listeners are called synchronously at publish; the hub turns that into
 * a wake-up of each subscriber's own stream.
 *
 * Memory follows what is retained, never what was asked for: reading or listening to a topic
 * stores nothing, a topic with no events and no listeners is forgotten, and events past
 * `maxAgeMs` (and streams past their TTL) are dropped by a sweep on every operation of the
 * broker, in time order, with no timer of its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker } from "@herald/sse";
 * const broker = new MemoryBroker({ maxEventsPerTopic: 500, maxAgeMs: 60_000 });
 * const hub = createHub({ broker });
 * const [id] = await hub.publish("news", { event: "headline", data: { title: "Hi" } });
 * assert.match(id, /^\d+-0$/);
 * assert.equal(broker.topicCount, 1);
 * ```
 */
export class MemoryBroker implements StreamBroker {
  #topics = new Map<string, Topic>();
  #listeners = new Map<string, Set<BrokerListener>>();
  #cancelWatchers = new Map<string, Set<CancelWatcher>>();
  #expiry = new ExpiryHeap();
  /** The newest head of a forgotten topic: where an unknown topic reads as having lost history. */
  #forgottenThrough = ZERO_POSITION;
  #maxEvents: number;
  #maxStreamEvents: number;
  #maxAgeMs: number;
  #now: () => number;
  #epoch: string;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#maxEvents = options.maxEventsPerTopic ?? 1000;
    this.#maxStreamEvents = options.maxEventsPerStream ?? 100_000;
    this.#maxAgeMs = options.maxAgeMs ?? Infinity;
    if (!(this.#maxEvents >= 1) || !(this.#maxStreamEvents >= 1) || !(this.#maxAgeMs > 0)) {
      throw new RangeError(
        "maxEventsPerTopic and maxEventsPerStream must be at least 1 and maxAgeMs above 0.",
      );
    }
    this.#now = options.now ?? Date.now;
    this.#epoch = options.epoch ?? newEpoch();
  }

  /** The current epoch (changes on {@link MemoryBroker.reset}). */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * How many topics the broker holds in memory: with retained events, a stream, or a live
   * listener. For metrics, and to check that memory follows use.
   */
  get topicCount(): number {
    let count = this.#topics.size;
    for (const name of this.#listeners.keys()) if (!this.#topics.has(name)) count++;
    for (const name of this.#cancelWatchers.keys()) {
      if (!this.#topics.has(name) && !this.#listeners.has(name)) count++;
    }
    return count;
  }

  #create(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      // A new topic continues after every forgotten one: a cursor of an earlier topic of the same
      // name is then told of the loss (or refused as ahead), never silently replayed.
      topic = {
        entries: [],
        start: 0,
        head: this.#forgottenThrough,
        lostThrough: this.#forgottenThrough,
        stream: undefined,
        ageQueuedMs: -1,
      };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  /** Drops what is due: expired events, expired streams, topics left with neither. */
  #sweep(nowMs: number): void {
    for (;;) {
      const record = this.#expiry.popDue(nowMs);
      if (!record) return;
      const topic = this.#topics.get(record.topic);
      if (!topic) continue;
      const stream = topic.stream;
      if (stream) {
        if (stream.expiresAtMs <= nowMs) {
          this.#forget(record.topic, topic);
        } else if (record.atMs === stream.queuedMs) {
          // Renewed since it was queued: queue it again for its new time.
          stream.queuedMs = stream.expiresAtMs;
          this.#expiry.push(record.topic, stream.expiresAtMs);
        }
        continue;
      }
      this.#trim(topic, nowMs);
      if (topic.start === topic.entries.length) this.#forget(record.topic, topic);
    }
  }

  #forget(name: string, topic: Topic): void {
    this.#topics.delete(name);
    if (comparePositions(topic.head, this.#forgottenThrough) > 0) {
      this.#forgottenThrough = topic.head;
    }
  }

  #trim(topic: Topic, nowMs: number): void {
    const { entries } = topic;
    let start = topic.start;
    const max = topic.stream ? this.#maxStreamEvents : this.#maxEvents;
    const overCount = entries.length - start - max;
    if (overCount > 0) start += overCount;
    if (this.#maxAgeMs !== Infinity && !topic.stream) {
      const cutoffMs = nowMs - this.#maxAgeMs;
      while (start < entries.length && positionMs(entries[start].id) < cutoffMs) start++;
    }
    if (start === topic.start) return;
    topic.lostThrough = entries[start - 1].id;
    topic.start = start;
    // Compact when the dead front outgrows the live part: amortised O(1) per event.
    if (start === entries.length) {
      topic.entries = [];
      topic.start = 0;
    } else if (start > 1024 && start * 2 > entries.length) {
      topic.entries = entries.slice(start);
      topic.start = 0;
    }
  }

  /** Appends to a topic, trims it, queues its expiry, and tells its listeners. */
  #append(name: string, topic: Topic, events: readonly HubEvent[], nowMs: number): string[] {
    const added: BrokerEntry[] = [];
    for (const event of events) {
      topic.head = nextPosition(topic.head, nowMs);
      const entry = { id: topic.head, event };
      topic.entries.push(entry);
      added.push(entry);
    }
    this.#trim(topic, nowMs);
    if (this.#maxAgeMs !== Infinity && !topic.stream && added.length > 0) {
      // One record per publish (not per event), due when its newest event is too old.
      const dueMs = positionMs(topic.head) + this.#maxAgeMs + 1;
      if (dueMs !== topic.ageQueuedMs) {
        topic.ageQueuedMs = dueMs;
        this.#expiry.push(name, dueMs);
      }
    }
    this.#notify(name, added);
    return added.map((entry) => entry.id);
  }

  #notify(name: string, added: BrokerEntry[]): void {
    const listeners = this.#listeners.get(name);
    if (!listeners || added.length === 0) return;
    // A listener may unlisten (itself or others) while it is called: a Set's iteration skips
    // what was deleted and goes on.
    for (const listener of listeners) {
      try {
        listener.onEntries(name, added);
      } catch (cause) {
        // One broken listener must not stop the others: it is removed from all its topics, and
        // told once.
        this.unlisten(listener);
        listener.onError(
          new BrokerError("upstream-lost", "A live listener failed and was removed.", { cause }),
        );
      }
    }
  }

  publish(topicName: string, events: readonly HubEvent[]): Promise<string[]> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    return Promise.resolve(this.#append(topicName, this.#create(topicName), events, nowMs));
  }

  read(requests: readonly { topic: string; after: string }[], limit: number): Promise<BrokerRead> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    const topics: TopicRead[] = requests.map(({ topic: name, after }) => {
      const topic = this.#topics.get(name);
      if (!topic) {
        const floor = this.#forgottenThrough;
        return { topic: name, head: floor, lostThrough: floor, entries: [], more: false };
      }
      this.#trim(topic, nowMs);
      const { entries } = topic;
      // Binary search for the first retained entry strictly after `after`.
      let low = topic.start;
      let high = entries.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (comparePositions(entries[mid].id, after) <= 0) low = mid + 1;
        else high = mid;
      }
      const end = Math.min(entries.length, low + limit);
      const read: TopicRead = {
        topic: name,
        head: topic.head,
        lostThrough: topic.lostThrough,
        entries: entries.slice(low, end),
        more: end < entries.length,
      };
      if (topic.stream) read.stream = { end: topic.stream.endId ?? null };
      return read;
    });
    return Promise.resolve({ epoch: this.#epoch, topics });
  }

  listen(listener: BrokerListener): Promise<void> {
    this.#sweep(this.#now());
    for (const name of listener.topics) {
      let set = this.#listeners.get(name);
      if (!set) this.#listeners.set(name, set = new Set());
      set.add(listener);
    }
    return Promise.resolve();
  }

  /** Stops `listener`'s feed: it leaves each of its topics' sets; an empty set is dropped. */
  unlisten(listener: BrokerListener): void {
    for (const name of listener.topics) {
      const set = this.#listeners.get(name);
      if (set?.delete(listener) && set.size === 0) this.#listeners.delete(name);
    }
  }

  /** Ends a stream as `lost`: its lease expired with no end. */
  #endLost(name: string, topic: Topic, nowMs: number): StreamEnd {
    const end: StreamEnd = { status: "lost" };
    // A new fence: whatever the old producer sends from now on is refused.
    topic.stream!.fence = "";
    this.#end(name, topic, end, nowMs);
    return end;
  }

  #end(name: string, topic: Topic, end: StreamEnd, nowMs: number): string {
    const stream = topic.stream!;
    stream.end = end;
    stream.presence.clear();
    const [id] = this.#append(name, topic, [streamEndEvent(end)], nowMs);
    stream.endId = id;
    this.#expireAt(name, stream, nowMs + stream.ttlMs);
    return id;
  }

  #expireAt(name: string, stream: StreamState, atMs: number): void {
    stream.expiresAtMs = atMs;
    if (atMs < stream.queuedMs) {
      stream.queuedMs = atMs;
      this.#expiry.push(name, atMs);
    }
  }

  claimStream(topicName: string, options: StreamClaimOptions): Promise<StreamClaim> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    const topic = this.#create(topicName);
    const stream = topic.stream;
    if (!stream) {
      const fence = newEpoch();
      topic.stream = {
        fence,
        leaseUntilMs: nowMs + options.leaseMs,
        start: topic.head,
        ttlMs: options.ttlMs,
        seq: 0,
        end: undefined,
        endId: undefined,
        cancel: undefined,
        presence: new Map(),
        seenMs: nowMs,
        expiresAtMs: Infinity,
        queuedMs: Infinity,
      };
      this.#expireAt(topicName, topic.stream, nowMs + options.leaseMs + options.ttlMs);
      return Promise.resolve({ epoch: this.#epoch, start: topic.head, fence });
    }
    let end = stream.end;
    if (!end && stream.leaseUntilMs < nowMs) end = this.#endLost(topicName, topic, nowMs);
    return Promise.resolve({ epoch: this.#epoch, start: stream.start, end });
  }

  appendStream(
    topicName: string,
    fence: string,
    events: readonly HubEvent[],
    options: StreamAppendOptions,
  ): Promise<StreamAppend> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    const topic = this.#topics.get(topicName);
    const stream = topic?.stream;
    // Its own end keeps the fence (a repeat of the append that wrote it is answered as applied);
    // an end written by another changed it.
    const applied = stream !== undefined && options.seq <= stream.seq;
    if (!topic || !stream || stream.fence !== fence || (stream.end && !applied)) {
      return Promise.reject(
        new BrokerError(
          "lease-lost",
          `The stream of "${topicName}" is no longer this producer's: its lease expired and the ` +
            "stream was ended, or it expired. Nothing was written.",
        ),
      );
    }
    let ids: string[] = [];
    if (!applied) {
      stream.seq = options.seq;
      stream.ttlMs = options.ttlMs;
      stream.leaseUntilMs = nowMs + options.leaseMs;
      if (events.length > 0) ids = this.#append(topicName, topic, events, nowMs);
      if (options.end) ids.push(this.#end(topicName, topic, options.end, nowMs));
      else stream.expiresAtMs = nowMs + options.leaseMs + options.ttlMs;
    }
    const readers = stream.end ? 0 : this.#readers(stream, nowMs);
    const answer: StreamAppend = {
      ids,
      readers,
      unwatchedMs: readers > 0 ? 0 : Math.max(0, nowMs - stream.seenMs),
    };
    if (stream.cancel !== undefined) answer.cancel = stream.cancel;
    return Promise.resolve(answer);
  }

  /** Hubs with a reader of the stream now; expired reports count as the moment they lapsed. */
  #readers(stream: StreamState, nowMs: number): number {
    for (const [owner, untilMs] of stream.presence) {
      if (untilMs <= nowMs) {
        stream.presence.delete(owner);
        if (untilMs > stream.seenMs) stream.seenMs = untilMs;
      }
    }
    return stream.presence.size;
  }

  cancelStream(topicName: string, reason: string): Promise<boolean> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    const topic = this.#topics.get(topicName);
    const stream = topic?.stream;
    if (!topic || !stream || stream.end) return Promise.resolve(false);
    if (stream.leaseUntilMs < nowMs) {
      this.#endLost(topicName, topic, nowMs);
      return Promise.resolve(false);
    }
    stream.cancel ??= reason;
    const watchers = this.#cancelWatchers.get(topicName);
    if (watchers) {
      for (const watcher of [...watchers]) {
        try {
          watcher.onCancel(topicName, stream.cancel);
        } catch (error) {
          // The producer still learns of it at its next append.
          console.error("Herald MemoryBroker: a cancel watcher threw.", error);
        }
      }
    }
    return Promise.resolve(true);
  }

  touchPresence(touch: PresenceTouch): Promise<string[]> {
    const nowMs = this.#now();
    this.#sweep(nowMs);
    const ended: string[] = [];
    for (const name of touch.left) {
      const stream = this.#topics.get(name)?.stream;
      if (stream?.presence.delete(touch.owner) && stream.presence.size === 0) {
        stream.seenMs = nowMs;
      }
    }
    for (const name of touch.topics) {
      const topic = this.#topics.get(name);
      const stream = topic?.stream;
      if (!topic || !stream || stream.end) continue;
      if (stream.leaseUntilMs < nowMs) {
        this.#endLost(name, topic, nowMs);
        ended.push(name);
        continue;
      }
      stream.presence.set(touch.owner, nowMs + touch.ttlMs);
      stream.seenMs = nowMs;
    }
    return Promise.resolve(ended);
  }

  watchCancel(topicName: string, watcher: CancelWatcher): Promise<void> {
    if (watcher.signal.aborted) return Promise.resolve();
    let set = this.#cancelWatchers.get(topicName);
    if (!set) this.#cancelWatchers.set(topicName, set = new Set());
    set.add(watcher);
    watcher.signal.addEventListener("abort", () => {
      const watchers = this.#cancelWatchers.get(topicName);
      if (watchers?.delete(watcher) && watchers.size === 0) this.#cancelWatchers.delete(topicName);
    }, { once: true });
    return Promise.resolve();
  }

  /**
   * Forgets every topic and stream and takes a new epoch, as a restarted process would. Live
   * listeners end with {@link BrokerError} `broker-reset`; clients resuming with an old cursor
   * get the history-lost event; producers lose their lease.
   */
  reset(): void {
    const listeners = new Set<BrokerListener>();
    for (const set of this.#listeners.values()) for (const listener of set) listeners.add(listener);
    this.#topics.clear();
    this.#listeners.clear();
    this.#expiry.clear();
    this.#forgottenThrough = ZERO_POSITION;
    this.#epoch = newEpoch();
    for (const listener of listeners) {
      listener.onError(
        new BrokerError("broker-reset", "The broker was reset; resume from your cursor."),
      );
    }
  }
}

function positionMs(position: string): number {
  return Number(position.slice(0, position.indexOf("-")));
}
