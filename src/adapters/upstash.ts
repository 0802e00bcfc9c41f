/**
 * A hub broker on Upstash Redis over REST (`@herald/sse/upstash`): one Redis stream per topic,
 * trimmed by length and/or age; a publish is one atomic `EVAL` (append, trim, notify) whatever
 * the batch size; replay is an exclusive, count-bounded `XRANGE`; live delivery is one
 * subscribe stream per isolate (Deno, Bun) or per request (Workers), with a liveness ping and
 * catch-up, or polling. Resumable streams (`hub.startStream`): each claim, append (a whole
 * coalesced batch with its lease renewal, cancel check and presence count), cancel and presence
 * report is one atomic `EVAL`. Takes an `@upstash/redis` `Redis` instance (a peer dependency).
 * The commands billed per operation are listed in docs/hub.md and docs/streams.md.
 *
 * @example
 * ```ts ignore
 * import { Redis } from "@upstash/redis";
 * import { createHub } from "@herald/sse";
 * import { UpstashBroker } from "@herald/sse/upstash";
 * const broker = new UpstashBroker({ redis: Redis.fromEnv(), maxEventsPerTopic: 10_000 });
 * const hub = createHub({ broker });
 * Deno.serve((request) => hub.response(request, { topics: ["news"] }));
 * await hub.publish("news", { event: "headline", data: { title: "Hello" } });
 * ```
 * @module
 */
import type { Redis } from "@upstash/redis";
import { requestScopedIO } from "../capabilities.ts";
import type {
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
} from "../hub/broker.ts";
import { newEpoch } from "../hub/epoch.ts";
import { BrokerError } from "../hub/errors.ts";
import { type FeedConfig, type FeedStats, LiveFeed, type LiveMode } from "./upstash_live_feed.ts";
import {
  readAppendReply,
  readClaimReply,
  readPublishReply,
  readReadReply,
  readTopicsReply,
} from "./upstash_replies.ts";
import { PUBLISH_SCRIPT, READ_SCRIPT } from "./upstash_scripts.ts";
import {
  APPEND_STREAM_SCRIPT,
  CANCEL_STREAM_SCRIPT,
  CLAIM_STREAM_SCRIPT,
  TOUCH_PRESENCE_SCRIPT,
} from "./upstash_stream_scripts.ts";

export { type FeedStats, type LiveMode } from "./upstash_live_feed.ts";

/** Options of {@link UpstashBroker}. */
export interface UpstashBrokerOptions {
  /** An `@upstash/redis` client: `new Redis({ url, token })` or `Redis.fromEnv()`. */
  redis: Redis;
  /** Prefix of every key and of the notify channel. Default `"herald"`. */
  prefix?: string;
  /** Events kept per topic (exact `MAXLEN` at every publish). Default 1000; 0 = no limit. */
  maxEventsPerTopic?: number;
  /** Events older than this are trimmed (`MINID`, at every publish). Default: no age limit. */
  maxAgeMs?: number;
  /**
   * Events kept per resumable stream (`MAXLEN` at every append; a stream is not trimmed by
   * `maxEventsPerTopic` or `maxAgeMs`: its keys expire `ttlMs` after its end). Default 100 000.
   */
  maxEventsPerStream?: number;
  /** Live delivery: `"subscribe"` (default, Upstash's subscribe stream) or `"poll"`. */
  live?: LiveMode;
  /**
   * Share one live feed among all the isolate's subscribers (default), or open one per `listen`
   * (`false`; the default on Workers, where I/O can't cross requests).
   */
  shareFeed?: boolean;
  /** How often the feed checks that its subscribe stream is alive, in ms. Default 15 000. */
  pingIntervalMs?: number;
  /** How long a ping (or a subscribe confirmation) may take, in ms. Default 5000. */
  pingTimeoutMs?: number;
  /** How often `live: "poll"` reads, in ms. Default 1000. */
  pollIntervalMs?: number;
  /** The first delay between re-subscribe attempts (doubling, at most 5 s), in ms. Default 100. */
  reconnectDelayMs?: number;
  /** Re-subscribe attempts before subscribers are told the feed is lost. Default 8. */
  maxReconnectAttempts?: number;
  /** How long a shared feed with no listeners stays open, in ms. Default 5000. */
  idleLingerMs?: number;
  /** Entries per topic per catch-up read. Default 500. */
  pageSize?: number;
}

/**
 * A {@link Broker} on Upstash Redis; see the module documentation.
 *
 * @example
 * ```ts ignore
 * import { Redis } from "@upstash/redis";
 * import { UpstashBroker } from "@herald/sse/upstash";
 * import assert from "node:assert/strict";
 * const broker = new UpstashBroker({ redis: new Redis({ url: "https://…", token: "…" }) });
 * const ids = await broker.publish("news", [{ data: "one" }, { data: "two" }]);
 * assert.equal(ids.length, 2);
 * ```
 */
export class UpstashBroker implements StreamBroker {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #maxStreamEvents: number;
  readonly #share: boolean;
  readonly #feedConfig: FeedConfig;
  #shared: LiveFeed | undefined;
  readonly #feeds = new Set<LiveFeed>();
  /** Per request (Workers): each listener's own feed, for `unlisten` to find (none when shared). */
  readonly #feedOf: WeakMap<BrokerListener, LiveFeed> | undefined;

  constructor(options: UpstashBrokerOptions) {
    if (!options?.redis || typeof options.redis.eval !== "function") {
      throw new TypeError("UpstashBroker needs { redis }: an @upstash/redis Redis instance.");
    }
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? "herald";
    this.#maxEvents = options.maxEventsPerTopic ?? 1000;
    this.#maxAgeMs = options.maxAgeMs ?? 0;
    this.#maxStreamEvents = options.maxEventsPerStream ?? 100_000;
    // Where I/O belongs to one request, a feed opened in one request can't serve another.
    this.#share = options.shareFeed ?? !requestScopedIO;
    if (!this.#share) this.#feedOf = new WeakMap();
    this.#feedConfig = {
      redis: this.#redis,
      channel: `${this.#prefix}:live`,
      mode: options.live ?? "subscribe",
      pingIntervalMs: options.pingIntervalMs ?? 15_000,
      pingTimeoutMs: options.pingTimeoutMs ?? 5_000,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      maxReconnectAttempts: options.maxReconnectAttempts ?? 8,
      idleLingerMs: this.#share ? options.idleLingerMs ?? 5_000 : 0,
      pageSize: options.pageSize ?? 500,
      stats: { subscribes: 0, reconnects: 0, pings: 0, catchUpReads: 0, polls: 0 },
      read: (requests, limit) => this.read(requests, limit),
    };
  }

  #streamKey(topic: string): string {
    return `${this.#prefix}:t:${topic}`;
  }

  /** A topic's stream, its stream-state hash and its presence set. */
  #streamKeys(topic: string): [string, string, string] {
    const prefix = this.#prefix;
    return [`${prefix}:t:${topic}`, `${prefix}:s:${topic}`, `${prefix}:p:${topic}`];
  }

  get #epochKey(): string {
    return `${this.#prefix}:epoch`;
  }

  /** One `EVAL`: XADD each event, trim, record the newest trimmed id, PUBLISH one notification. */
  async publish(topic: string, events: readonly HubEvent[]): Promise<string[]> {
    const args = [
      newEpoch(),
      this.#feedConfig.channel,
      String(this.#maxEvents),
      String(this.#maxAgeMs),
      JSON.stringify(topic),
      ...events.map((event) => JSON.stringify(event)),
    ];
    return readPublishReply(
      await this.#call(() =>
        this.#redis.eval(PUBLISH_SCRIPT, [this.#epochKey, this.#streamKey(topic)], args)
      ),
    );
  }

  /** One `EVAL` for all the topics: epoch, heads, trimming state, exclusive `XRANGE … COUNT`. */
  async read(
    requests: readonly { topic: string; after: string }[],
    limit: number,
  ): Promise<BrokerRead> {
    const keys = [this.#epochKey];
    for (const { topic } of requests) {
      keys.push(this.#streamKey(topic), `${this.#prefix}:s:${topic}`);
    }
    const args = [String(limit), newEpoch(), ...requests.map((r) => r.after)];
    const reply = await this.#call(() => this.#redis.eval(READ_SCRIPT, keys, args));
    return readReadReply(reply, requests.map((r) => r.topic));
  }

  async listen(listener: BrokerListener): Promise<void> {
    const feed = this.#feed();
    this.#feedOf?.set(listener, feed);
    await feed.listen(listener);
  }

  /**
   * Stops a listener's feed: the shared feed forgets it (and stops `idleLingerMs` after its last
   * listener left); a feed of its own (per request) stops at once.
   */
  unlisten(listener: BrokerListener): void {
    if (!this.#feedOf) {
      this.#shared?.unlisten(listener);
      return;
    }
    const feed = this.#feedOf.get(listener);
    if (!feed) return;
    this.#feedOf.delete(listener);
    feed.unlisten(listener);
  }

  /** The isolate's shared feed, or (per request, Workers) a feed of its own for each caller. */
  #feed(): LiveFeed {
    if (this.#share) {
      if (!this.#shared || this.#shared.closed) {
        const feed: LiveFeed = new LiveFeed(this.#feedConfig, () => {
          if (this.#shared === feed) this.#shared = undefined;
          this.#feeds.delete(feed);
        });
        this.#shared = feed;
        this.#feeds.add(feed);
      }
      return this.#shared;
    }
    // Per request (Workers): the feed's fetch and timers belong to the request that listens.
    const feed: LiveFeed = new LiveFeed(this.#feedConfig, () => this.#feeds.delete(feed));
    this.#feeds.add(feed);
    return feed;
  }

  /** One `EVAL`: start the topic's stream with a new fence, or report the one there. */
  async claimStream(topic: string, options: StreamClaimOptions): Promise<StreamClaim> {
    const [stream, state, presence] = this.#streamKeys(topic);
    const args = [
      newEpoch(),
      newEpoch(),
      options.owner,
      String(options.leaseMs),
      String(options.ttlMs),
      this.#feedConfig.channel,
      JSON.stringify(topic),
      String(this.#maxStreamEvents),
    ];
    return readClaimReply(
      await this.#call(() =>
        this.#redis.eval(CLAIM_STREAM_SCRIPT, [this.#epochKey, stream, state, presence], args)
      ),
    );
  }

  /**
   * One `EVAL` per flush: the batch, the end if any, the lease renewal, and the cancel and
   * presence answers.
   */
  async appendStream(
    topic: string,
    fence: string,
    events: readonly HubEvent[],
    options: StreamAppendOptions,
  ): Promise<StreamAppend> {
    const args = [
      fence,
      String(options.seq),
      String(options.leaseMs),
      String(options.ttlMs),
      this.#feedConfig.channel,
      JSON.stringify(topic),
      String(this.#maxStreamEvents),
      options.end ? JSON.stringify(options.end) : "",
      ...events.map((event) => JSON.stringify(event)),
    ];
    return readAppendReply(
      await this.#call(() => this.#redis.eval(APPEND_STREAM_SCRIPT, this.#streamKeys(topic), args)),
      topic,
    );
  }

  /** One `EVAL`: mark the cancel and publish its notice on the live channel. */
  async cancelStream(topic: string, reason: string): Promise<boolean> {
    const args = [
      this.#feedConfig.channel,
      JSON.stringify(topic),
      JSON.stringify(reason),
      String(this.#maxStreamEvents),
    ];
    const reply = await this.#call(() =>
      this.#redis.eval(CANCEL_STREAM_SCRIPT, this.#streamKeys(topic), args)
    );
    return Number(reply) === 1;
  }

  /** One `EVAL` for all the hub's stream topics (none when it has none). */
  async touchPresence(touch: PresenceTouch): Promise<string[]> {
    if (touch.topics.length === 0 && touch.left.length === 0) return [];
    const keys: string[] = [];
    for (const topic of touch.topics) keys.push(...this.#streamKeys(topic));
    for (const topic of touch.left) keys.push(...this.#streamKeys(topic));
    const args = [
      touch.owner,
      String(touch.ttlMs),
      this.#feedConfig.channel,
      String(this.#maxStreamEvents),
      String(touch.topics.length),
      ...touch.topics.map((topic) => JSON.stringify(topic)),
    ];
    return readTopicsReply(
      await this.#call(() => this.#redis.eval(TOUCH_PRESENCE_SCRIPT, keys, args)),
    );
  }

  /**
   * Cancel notices come on the live channel: the isolate's shared feed (no request of its own
   * once it is open), or a feed of the watcher's own where feeds are per request (Workers).
   */
  async watchCancel(topic: string, watcher: CancelWatcher): Promise<void> {
    await this.#feed().watchCancel(topic, watcher);
  }

  /** What the live feeds have done so far (subscribes, reconnects, pings, catch-up reads, polls). */
  get feedStats(): FeedStats {
    return { ...this.#feedConfig.stats };
  }

  /** Live feeds open now: at most 1 when shared; one per listening request otherwise. */
  get openFeeds(): number {
    return this.#feeds.size;
  }

  /** Closes every live feed (listeners get nothing more). */
  close(): void {
    for (const feed of this.#feeds) feed.close();
    this.#feeds.clear();
    this.#shared = undefined;
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (cause) {
      throw new BrokerError(
        "broker-unavailable",
        `Upstash Redis failed: ${(cause as Error)?.message ?? cause}. Check the URL, the token ` +
          "and the database's status.",
        { cause },
      );
    }
  }
}
