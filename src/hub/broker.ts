// The contract between the hub and a store of topics. A broker only moves events between
// isolates; it never formats bytes (the hub makes ids, the encoder makes bytes).

/** What a publisher hands the hub for one event: the id is the hub's to assign. */
export interface HubEvent<Data = unknown> {
  /** The event type (`event:`), no CR or LF. */
  event?: string;
  /** A string goes out verbatim, anything else as JSON. Stored as given. */
  data?: Data;
}

/** One stored event and its position in its topic (`<ms>-<seq>`). */
export interface BrokerEntry {
  id: string;
  event: HubEvent;
}

/** What a broker reports about one topic after a read. */
export interface TopicRead {
  topic: string;
  /** The newest position ever assigned in the topic (`0-0` if none), trimmed or not. */
  head: string;
  /**
   * The newest position deleted by trimming or expiry (`0-0` if none): a cursor before it has
   * lost events. Redis 7 calls it `max-deleted-entry-id`.
   */
  lostThrough: string;
  /** Entries strictly after the asked-for position, oldest first, at most the limit. */
  entries: BrokerEntry[];
  /** Whether more entries follow the last one returned. */
  more: boolean;
}

/** A read over several topics, taken at one moment of the broker. */
export interface BrokerRead {
  /** The broker's epoch: a random id that changes when the store is reset. */
  epoch: string;
  topics: TopicRead[];
}

/**
 * How the hub listens to a broker's live feed. The hub passes its subscriber object itself as these
 * options (one object per subscriber, no closures), so a broker must call `onEntries` and `onError`
 * as methods of the object it was given (`options.onEntries(...)`), never detached from it.
 */
export interface ListenOptions {
  topics: readonly string[];
  /**
   * Called with new entries of one topic, oldest first. Per topic, every entry published after
   * `listen` resolved arrives once and in order (a broker that loses its feed catches up itself);
   * entries published before may arrive too (the hub drops them by position).
   */
  onEntries(topic: string, entries: BrokerEntry[]): void;
  /** Called once if the feed is lost for good; no more entries follow. */
  onError(error: Error): void;
  /** Stops listening. */
  signal: AbortSignal;
}

/**
 * A store of topics: an append-only log per topic with ids, bounded history, and a live feed.
 * {@link MemoryBroker} keeps one isolate's topics in memory; `UpstashBroker`
 * (`@herald/sse/upstash`) keeps them in Redis streams.
 *
 * @example
 * ```ts
 * import { type Broker, MemoryBroker } from "@herald/sse";
 * const broker: Broker = new MemoryBroker();
 * console.log(await broker.publish("news", [{ data: "hi" }])); // ["<ms>-0"]
 * ```
 */
export interface Broker {
  /** Appends events to a topic atomically, notifies listeners, returns the assigned ids. */
  publish(topic: string, events: readonly HubEvent[]): Promise<string[]>;
  /**
   * Reads, for each topic, up to `limit` entries strictly after `after`, with the topic's head
   * and trimming state. `limit` 0 reads only the state.
   */
  read(requests: readonly { topic: string; after: string }[], limit: number): Promise<BrokerRead>;
  /** Starts a live feed; resolves once every later publish is sure to be delivered to it. */
  listen(options: ListenOptions): Promise<void>;
}
