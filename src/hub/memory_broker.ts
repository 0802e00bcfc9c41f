import type {
  Broker,
  BrokerEntry,
  BrokerRead,
  HubEvent,
  ListenOptions,
  TopicRead,
} from "./broker.ts";
import { BrokerError } from "./errors.ts";
import { newEpoch } from "./epoch.ts";
import { comparePositions, nextPosition, ZERO_POSITION } from "./position.ts";

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Events kept per topic; older ones are trimmed. Default 1000. */
  maxEventsPerTopic?: number;
  /** Events older than this are trimmed (on publish and on read). Default: no age limit. */
  maxAgeMs?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. Tests inject their own. */
  now?: () => number;
  /** The broker's epoch. Default: a new random one (every `new MemoryBroker()` is a fresh store). */
  epoch?: string;
}

interface Topic {
  /** Retained entries live in `entries[start..]`; the front is compacted away in bulk. */
  entries: BrokerEntry[];
  start: number;
  head: string;
  lostThrough: string;
  listeners: Set<ListenOptions>;
}

/**
 * A broker for one isolate: per-topic history in memory, bounded by count and by age, with ids
 * made the way Redis' XADD makes them (`<ms>-<seq>`). Listeners are called synchronously at
 * publish; the hub turns that into a wake-up of each subscriber's own stream.
 *
 * @example
 * ```ts
 * import { createHub, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 500, maxAgeMs: 60_000 }) });
 * const [id] = await hub.publish("news", { event: "headline", data: { title: "Hi" } });
 * console.log(id); // e.g. "1763700000000-0"
 * ```
 */
export class MemoryBroker implements Broker {
  #topics = new Map<string, Topic>();
  #maxEvents: number;
  #maxAgeMs: number;
  #now: () => number;
  #epoch: string;

  constructor(options: MemoryBrokerOptions = {}) {
    this.#maxEvents = options.maxEventsPerTopic ?? 1000;
    this.#maxAgeMs = options.maxAgeMs ?? Infinity;
    if (!(this.#maxEvents >= 1) || !(this.#maxAgeMs > 0)) {
      throw new RangeError("maxEventsPerTopic must be at least 1 and maxAgeMs above 0.");
    }
    this.#now = options.now ?? Date.now;
    this.#epoch = options.epoch ?? newEpoch();
  }

  /** The current epoch (changes on {@link MemoryBroker.reset}). */
  get epoch(): string {
    return this.#epoch;
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = {
        entries: [],
        start: 0,
        head: ZERO_POSITION,
        lostThrough: ZERO_POSITION,
        listeners: new Set(),
      };
      this.#topics.set(name, topic);
    }
    return topic;
  }

  #trim(topic: Topic): void {
    const { entries } = topic;
    let start = topic.start;
    const overCount = entries.length - start - this.#maxEvents;
    if (overCount > 0) start += overCount;
    if (this.#maxAgeMs !== Infinity) {
      const cutoffMs = this.#now() - this.#maxAgeMs;
      while (start < entries.length && Number(entries[start].id.split("-")[0]) < cutoffMs) start++;
    }
    if (start === topic.start) return;
    topic.lostThrough = entries[start - 1].id;
    topic.start = start;
    // Compact when the dead front outgrows the live part: amortised O(1) per event.
    if (start > 1024 && start * 2 > entries.length) {
      topic.entries = entries.slice(start);
      topic.start = 0;
    }
  }

  publish(topicName: string, events: readonly HubEvent[]): Promise<string[]> {
    const topic = this.#topic(topicName);
    const nowMs = this.#now();
    const added: BrokerEntry[] = [];
    for (const event of events) {
      topic.head = nextPosition(topic.head, nowMs);
      const entry = { id: topic.head, event };
      topic.entries.push(entry);
      added.push(entry);
    }
    this.#trim(topic);
    for (const listener of topic.listeners) {
      try {
        listener.onEntries(topicName, added);
      } catch (cause) {
        // One broken listener must not stop the others: it is told, and removed.
        topic.listeners.delete(listener);
        listener.onError(
          new BrokerError("upstream-lost", "A live listener failed and was removed.", { cause }),
        );
      }
    }
    return Promise.resolve(added.map((entry) => entry.id));
  }

  read(requests: readonly { topic: string; after: string }[], limit: number): Promise<BrokerRead> {
    const topics: TopicRead[] = requests.map(({ topic: name, after }) => {
      const topic = this.#topic(name);
      this.#trim(topic);
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
      return {
        topic: name,
        head: topic.head,
        lostThrough: topic.lostThrough,
        entries: entries.slice(low, end),
        more: end < entries.length,
      };
    });
    return Promise.resolve({ epoch: this.#epoch, topics });
  }

  listen(options: ListenOptions): Promise<void> {
    const topics = options.topics.map((name) => this.#topic(name));
    if (options.signal.aborted) return Promise.resolve();
    for (const topic of topics) topic.listeners.add(options);
    options.signal.addEventListener("abort", () => {
      for (const topic of topics) topic.listeners.delete(options);
    }, { once: true });
    return Promise.resolve();
  }

  /**
   * Forgets every topic and takes a new epoch, as a restarted process would. Live listeners end
   * with {@link BrokerError} `broker-reset`; clients resuming with an old cursor get the
   * history-lost event.
   */
  reset(): void {
    const listeners = new Set<ListenOptions>();
    for (const topic of this.#topics.values()) for (const l of topic.listeners) listeners.add(l);
    this.#topics.clear();
    this.#epoch = newEpoch();
    for (const listener of listeners) {
      listener.onError(
        new BrokerError("broker-reset", "The broker was reset; resume from your cursor."),
      );
    }
  }
}
