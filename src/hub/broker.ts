// The contract between the hub and a store of topics. A broker only moves events between
// isolates; it never formats bytes (the hub makes ids, the encoder makes bytes).
import type { StreamEnd } from "./stream_end.ts";

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
  /**
   * Set when the topic holds a resumable stream ({@link StreamBroker}): `end` is the position of
   * its `herald.end` event once it has ended, `null` while it runs. Absent for other topics.
   */
  stream?: { end: string | null };
}

/** A read over several topics, taken at one moment of the broker. */
export interface BrokerRead {
  /** The broker's epoch: a random id that changes when the store is reset. */
  epoch: string;
  topics: TopicRead[];
}

/**
 * A live listener of a broker's feed ({@link Broker.listen}, {@link Broker.unlisten}). The hub
 * passes its subscriber object itself (one object per subscriber, no closures), so a broker must
 * call `onEntries` and `onError` as methods of the object it was given
 * (`listener.onEntries(...)`), never detached from it, and may keep the object itself (in a `Set`
 * per topic, say) to find it again at `unlisten`. `topics` does not change while it listens.
 */
export interface BrokerListener {
  topics: readonly string[];
  /**
   * Called with new entries of one topic, oldest first. Per topic, every entry published after
   * `listen` resolved arrives once and in order (a broker that loses its feed catches up itself);
   * entries published before may arrive too (the hub drops them by position).
   */
  onEntries(topic: string, entries: BrokerEntry[]): void;
  /** Called once if the feed is lost for good; no more entries follow. */
  onError(error: Error): void;
}

/**
 * A store of topics: an append-only log per topic with ids, bounded history, and a live feed.
 * `MemoryBroker` keeps one isolate's topics in memory; `UpstashBroker`
 * (`@herald/sse/upstash`) keeps them in Redis streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Broker } from "@herald/sse/broker";
 * import { MemoryBroker } from "@herald/sse";
 * const broker: Broker = new MemoryBroker();
 * const [id] = await broker.publish("news", [{ data: "hi" }]);
 * assert.match(id, /^\d+-0$/);
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
  /**
   * Starts a live feed for `listener`; resolves once every later publish of its topics is sure to
   * be delivered to it. Rejects (and keeps nothing of the listener) if the feed can't be had.
   */
  listen(listener: BrokerListener): Promise<void>;
  /**
   * Stops the live feed of a listener given to {@link Broker.listen}, as `removeEventListener`
   * does: synchronous and idempotent (a listener that is not listening, or was told `onError`, is
   * no error). After it returns the listener gets no more `onEntries` or `onError` calls, also
   * when its `listen` is still pending (that call then settles without registering it), and a
   * topic left with no listener costs the broker nothing. The hub calls it once per subscriber
   * that stops, thousands at a time: it should allocate nothing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import type { Broker, BrokerEntry, BrokerListener } from "@herald/sse/broker";
   * import { MemoryBroker } from "@herald/sse";
   * const broker: Broker = new MemoryBroker();
   * const got: BrokerEntry[] = [];
   * const listener: BrokerListener = {
   *   topics: ["news"],
   *   onEntries: (_topic, entries) => got.push(...entries),
   *   onError: (error) => assert.fail(error),
   * };
   * await broker.listen(listener);
   * await broker.publish("news", [{ data: "heard" }]);
   * broker.unlisten(listener);
   * broker.unlisten(listener); // idempotent
   * await broker.publish("news", [{ data: "not heard" }]);
   * assert.deepEqual(got.map((entry) => entry.event.data), ["heard"]);
   * ```
   */
  unlisten(listener: BrokerListener): void;
}

/** Options of {@link StreamBroker.claimStream}. */
export interface StreamClaimOptions {
  /** Who claims: the hub's random id (one per hub instance), kept for diagnostics. */
  owner: string;
  /** How long the lease lasts without an append, in ms. */
  leaseMs: number;
  /** How long an ended stream stays readable, in ms (see {@link StreamAppendOptions.ttlMs}). */
  ttlMs: number;
}

/** What {@link StreamBroker.claimStream} answers. */
export interface StreamClaim {
  /** The broker's epoch (as in {@link BrokerRead}). */
  epoch: string;
  /** The position before the stream's first event: the topic's head when it was claimed. */
  start: string;
  /**
   * The fencing token, when this call claimed the stream: its producer passes it with every
   * append. Absent when another producer holds the lease or the stream has ended.
   */
  fence?: string;
  /** How the stream ended, if it has (also a `lost` end this very call wrote). */
  end?: StreamEnd;
}

/** Options of {@link StreamBroker.appendStream}. */
export interface StreamAppendOptions {
  /** The producer's append counter, from 1: an append whose `seq` was applied already is not
   * applied again (a retry after a lost reply), and answers `ids: []`, also when that append
   * ended the stream. */
  seq: number;
  /** Renews the lease for this long, in ms. */
  leaseMs: number;
  /**
   * How long the stream stays readable after its end, in ms: then its topic's history and its
   * state expire. While it runs, they expire `leaseMs + ttlMs` after the last append.
   */
  ttlMs: number;
  /** Ends the stream: `herald.end` with this data is appended after the events. */
  end?: StreamEnd;
}

/** What {@link StreamBroker.appendStream} answers. */
export interface StreamAppend {
  /** The positions assigned, in order (the `herald.end` last when the append ended the stream). */
  ids: string[];
  /** The reason given to {@link StreamBroker.cancelStream}, once a cancel was asked for. */
  cancel?: string;
  /** How many hubs (isolates) reported an open reader of the topic, within their presence TTL. */
  readers: number;
  /**
   * How long the topic has had no reader, in ms (0 while `readers` > 0): since the last reader
   * left, or since the stream was claimed if none ever came.
   */
  unwatchedMs: number;
}

/**
 * What {@link StreamBroker.touchPresence} is given: one call for all of a hub's topics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PresenceTouch } from "@herald/sse/broker";
 * import { MemoryBroker } from "@herald/sse";
 * const broker = new MemoryBroker();
 * const { fence } = await broker.claimStream("s", { owner: "p", leaseMs: 5000, ttlMs: 1000 });
 * const touch: PresenceTouch = { owner: "hub-1", topics: ["s"], left: [], ttlMs: 3000 };
 * assert.deepEqual(await broker.touchPresence(touch), []); // nothing ended lost
 * const answer = await broker.appendStream("s", fence!, [], { seq: 1, leaseMs: 5000, ttlMs: 1000 });
 * assert.equal(answer.readers, 1);
 * ```
 */
export interface PresenceTouch {
  /** The hub's random id: each hub counts once per topic, whatever its number of readers. */
  owner: string;
  /** Topics the hub has at least one open reader of. */
  topics: readonly string[];
  /** Topics whose last reader in this hub left since the previous touch. */
  left: readonly string[];
  /** How long this touch counts without the next one, in ms. */
  ttlMs: number;
}

/**
 * Who hears of {@link StreamBroker.cancelStream}: the producer's hub.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CancelWatcher } from "@herald/sse/broker";
 * import { MemoryBroker } from "@herald/sse";
 * const broker = new MemoryBroker();
 * await broker.claimStream("s", { owner: "p", leaseMs: 5000, ttlMs: 1000 });
 * const heard: string[] = [];
 * const stop = new AbortController();
 * const watcher: CancelWatcher = {
 *   onCancel: (_topic, reason) => heard.push(reason),
 *   signal: stop.signal,
 * };
 * await broker.watchCancel("s", watcher);
 * await broker.cancelStream("s", "stop button");
 * assert.deepEqual(heard, ["stop button"]);
 * stop.abort();
 * ```
 */
export interface CancelWatcher {
  /** Called (as a method) when a cancel of the watched topic is asked for. */
  onCancel(topic: string, reason: string): void;
  /** Stops watching. */
  signal: AbortSignal;
}

/**
 * A broker that also runs resumable streams (`hub.startStream`). A stream is a topic with one
 * producer at a time, across every isolate sharing the store, and a durable end. Each call is
 * one atomic step of the store; the hub needs nothing else.
 *
 * - A lease with a fencing token: {@link StreamBroker.claimStream} makes the caller the
 *   producer (a new random `fence`) only if the topic has no stream; each
 *   {@link StreamBroker.appendStream} carries the fence and is refused (`BrokerError`
 *   `lease-lost`) unless it is the stream's current one and the stream runs. A producer whose
 *   lease expired (no append within `leaseMs`) is ended as `lost` by whoever notices
 *   (`claimStream`, `cancelStream`, `touchPresence`): that appends `herald.end` and makes every
 *   later append of the old fence fail, so a stalled producer that wakes up can't write.
 * - An append also renews the lease, and answers whether a cancel was asked for and whether
 *   anyone reads: one call per flush does all of it.
 * - Presence: each hub reports, in one call per interval, the topics it has readers of.
 * - Expiry: `ttlMs` after its end (or `leaseMs + ttlMs` after its last append) a stream's history
 *   and state are gone.
 *
 * `MemoryBroker` and `UpstashBroker` implement it; docs/streams.md says more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StreamBroker } from "@herald/sse/broker";
 * import { MemoryBroker } from "@herald/sse/hub";
 * const broker: StreamBroker = new MemoryBroker();
 * const claim = await broker.claimStream("answer", { owner: "a", leaseMs: 5000, ttlMs: 60_000 });
 * assert.ok(claim.fence);
 * const again = await broker.claimStream("answer", { owner: "b", leaseMs: 5000, ttlMs: 60_000 });
 * assert.equal(again.fence, undefined); // one producer per stream
 * const options = { seq: 1, leaseMs: 5000, ttlMs: 60_000, end: { status: "done" as const } };
 * const { ids } = await broker.appendStream("answer", claim.fence!, [{ data: "hi" }], options);
 * assert.equal(ids.length, 2); // "hi", then herald.end
 * ```
 */
export interface StreamBroker extends Broker {
  /**
   * Claims the topic's stream for a new producer, or reports the one that exists: if the topic
   * has no stream, one starts (running, leased to the caller, `fence` set, `start` = the topic's
   * head); if it runs with a live lease, nothing changes; if its lease expired, it is ended as
   * `lost` first. Never two fences for one stream.
   */
  claimStream(topic: string, options: StreamClaimOptions): Promise<StreamClaim>;
  /**
   * As the producer holding `fence`: appends `events` (maybe none: a heartbeat), and `herald.end`
   * when `options.end` is set, renews the lease, notifies listeners like `publish`, and answers
   * cancel and presence. Rejects with `BrokerError` `lease-lost`, appending nothing, when `fence`
   * is not the running stream's.
   */
  appendStream(
    topic: string,
    fence: string,
    events: readonly HubEvent[],
    options: StreamAppendOptions,
  ): Promise<StreamAppend>;
  /**
   * Asks the topic's running stream to cancel: the next append answers `cancel`, and watchers are
   * told at once. A stream whose lease expired is ended as `lost` instead. Resolves whether a
   * running stream was there to ask.
   */
  cancelStream(topic: string, reason: string): Promise<boolean>;
  /**
   * Reports a hub's readers of running streams (see {@link PresenceTouch}), and ends as `lost`
   * each of those streams whose lease expired. Resolves the topics it ended.
   */
  touchPresence(touch: PresenceTouch): Promise<string[]>;
  /**
   * Calls `watcher.onCancel` when a cancel of `topic` is asked for from any isolate, until its
   * signal aborts. A broker without it is fine: producers then learn of a cancel at their next
   * append or heartbeat.
   */
  watchCancel?(topic: string, watcher: CancelWatcher): Promise<void>;
}
