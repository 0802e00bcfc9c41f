// The Upstash broker's live feed: one subscribe stream (or one poll loop) that serves every local
// listener of the isolate (or of one request, on Workers), reference-counted per topic.
//
// Liveness: Upstash's subscribe stream says nothing when it ends or stalls (the client reports no
// end), so the feed publishes a ping on its own channel every `pingIntervalMs` and expects it back
// within `pingTimeoutMs`. On a lost ping or a stream error it re-subscribes, waits for Redis' subscribe
// confirmation, then reads every tracked topic after the last id it delivered (exclusive XRANGE),
// and only then releases what the new stream buffered meanwhile: nothing lost, nothing twice.
//
// The same channel carries cancel notices of resumable streams (`{"c": topic, "r": reason}`),
// handed to the isolate's producers that watch that topic. A notice lost with the stream is not
// caught up: the producer learns of the cancel at its next append instead.
import type { Redis } from "@upstash/redis";
import type {
  BrokerEntry,
  BrokerListener,
  BrokerRead,
  CancelWatcher,
  HubEvent,
} from "../hub/broker.ts";
import { BrokerError } from "../hub/errors.ts";
import { comparePositions, ZERO_POSITION } from "../hub/position.ts";

/** How the feed learns of new events. */
export type LiveMode = "subscribe" | "poll";

/** What a feed needs from its broker. */
export interface FeedConfig {
  redis: Redis;
  channel: string;
  mode: LiveMode;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  pollIntervalMs: number;
  reconnectDelayMs: number;
  maxReconnectAttempts: number;
  /** How long a feed with no listeners stays up, in case one comes back (0 = stop at once). */
  idleLingerMs: number;
  pageSize: number;
  /** Where the feed counts what it does (shared by every feed of a broker). */
  stats: FeedStats;
  read(requests: { topic: string; after: string }[], limit: number): Promise<BrokerRead>;
}

/** What the feed counts, for tests and metrics. */
export interface FeedStats {
  subscribes: number;
  reconnects: number;
  pings: number;
  catchUpReads: number;
  polls: number;
}

interface Notification {
  t?: string;
  e?: [string, HubEvent][];
  p?: string;
  c?: string;
  r?: string;
}

type Subscriber = ReturnType<Redis["subscribe"]>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One live feed; see the module comment. */
export class LiveFeed {
  #config: FeedConfig;
  #id = crypto.randomUUID().slice(0, 8);
  #listeners = new Map<string, Set<BrokerListener>>();
  #cancelWatchers = new Map<string, Set<CancelWatcher>>();
  #delivered = new Map<string, string>();
  #activations = new Map<string, Promise<void>>();
  #epoch: string | undefined;
  #connecting: Promise<void> | undefined;
  #live = false;
  #closed = false;
  #subscriber: Subscriber | undefined;
  /** Fails the subscribe confirmation being awaited, if any (a feed closed meanwhile). */
  #unconfirm: ((error: Error) => void) | undefined;
  #buffer: Notification[] | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pingDeadline: ReturnType<typeof setTimeout> | undefined;
  #pingSeq = 0;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #onEmpty: (() => void) | undefined;

  constructor(config: FeedConfig, onEmpty?: () => void) {
    this.#config = config;
    this.#onEmpty = onEmpty;
  }

  /** Whether the feed has stopped for good (closed, or failed). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Adds a listener; resolves once every later publish of its topics will reach it. A listener
   * that leaves (`unlisten`) before then is not added back: the call settles (it rejects if the
   * feed stopped for want of listeners before it was up).
   */
  async listen(listener: BrokerListener): Promise<void> {
    if (this.#closed) {
      throw new BrokerError("upstream-lost", "This live feed was closed; listen again.");
    }
    clearTimeout(this.#lingerTimer);
    for (const topic of listener.topics) {
      let set = this.#listeners.get(topic);
      if (!set) this.#listeners.set(topic, set = new Set());
      set.add(listener);
    }
    try {
      await this.#ensureLive();
      await Promise.all(listener.topics.map((topic) => this.#activate(topic)));
    } catch (error) {
      this.unlisten(listener);
      throw error;
    }
  }

  /**
   * Removes a listener from its topics' sets (nothing else is kept per listener); with nobody
   * left, the feed stops now or after its linger. Returns whether it was there.
   */
  unlisten(listener: BrokerListener): boolean {
    let removed = false;
    for (const topic of listener.topics) {
      const set = this.#listeners.get(topic);
      if (!set?.delete(listener)) continue;
      removed = true;
      if (set.size === 0) {
        this.#listeners.delete(topic);
        this.#delivered.delete(topic);
      }
    }
    if (removed) this.#whenIdle();
    return removed;
  }

  /** Hands cancel notices of `topic` to `watcher` until its signal aborts; resolves once live. */
  async watchCancel(topic: string, watcher: CancelWatcher): Promise<void> {
    if (watcher.signal.aborted) return;
    if (this.#closed) {
      throw new BrokerError("upstream-lost", "This live feed was closed; watch again.");
    }
    clearTimeout(this.#lingerTimer);
    let set = this.#cancelWatchers.get(topic);
    if (!set) this.#cancelWatchers.set(topic, set = new Set());
    set.add(watcher);
    const remove = () => {
      const watchers = this.#cancelWatchers.get(topic);
      if (watchers?.delete(watcher) && watchers.size === 0) this.#cancelWatchers.delete(topic);
      this.#whenIdle();
    };
    watcher.signal.addEventListener("abort", remove, { once: true });
    try {
      await this.#ensureLive();
    } catch (error) {
      remove();
      throw error;
    }
  }

  /** Stops the feed: the subscribe stream, the timers. Listeners get no more entries. */
  close(): void {
    this.#closed = true;
    this.#live = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#pingDeadline);
    clearTimeout(this.#lingerTimer);
    this.#dropSubscriber();
    // A connect in progress stops at once instead of waiting out the confirmation's timeout.
    this.#unconfirm?.(new BrokerError("upstream-lost", "This live feed was closed; listen again."));
    this.#listeners.clear();
    this.#cancelWatchers.clear();
    this.#delivered.clear();
  }

  /** With nobody left (listeners and cancel watchers), stop now or after the linger. */
  #whenIdle(): void {
    if (this.#listeners.size === 0 && this.#cancelWatchers.size === 0 && !this.#closed) {
      clearTimeout(this.#lingerTimer);
      if (this.#config.idleLingerMs <= 0) this.#stopIdle();
      else this.#lingerTimer = setTimeout(() => this.#stopIdle(), this.#config.idleLingerMs);
    }
  }

  #stopIdle(): void {
    if (this.#listeners.size > 0 || this.#cancelWatchers.size > 0) return;
    this.close();
    this.#onEmpty?.();
  }

  /** A topic's first listener: note its head, so a later catch-up knows where to start. */
  #activate(topic: string): Promise<void> {
    if (this.#delivered.has(topic)) return Promise.resolve();
    let activation = this.#activations.get(topic);
    if (!activation) {
      activation = (async () => {
        const read = await this.#config.read([{ topic, after: ZERO_POSITION }], 0);
        this.#epoch ??= read.epoch;
        const head = read.topics[0].head;
        const known = this.#delivered.get(topic);
        if (this.#listeners.has(topic)) {
          this.#delivered.set(topic, known && comparePositions(known, head) > 0 ? known : head);
        }
      })().finally(() => this.#activations.delete(topic));
      this.#activations.set(topic, activation);
    }
    return activation;
  }

  #ensureLive(): Promise<void> {
    if (this.#live) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const { maxReconnectAttempts, reconnectDelayMs } = this.#config;
    let lastError: unknown;
    for (let attempt = 0; attempt <= maxReconnectAttempts && !this.#closed; attempt++) {
      if (attempt > 0) await sleep(Math.min(reconnectDelayMs * 2 ** (attempt - 1), 5_000));
      if (this.#closed) break;
      try {
        if (this.#config.mode === "subscribe") await this.#subscribe();
        await this.#catchUp();
        if (this.#closed) break;
        const buffered = this.#buffer ?? [];
        this.#buffer = undefined;
        for (const notification of buffered) this.#handle(notification);
        this.#live = true;
        this.#schedule();
        return;
      } catch (error) {
        lastError = error;
        this.#dropSubscriber();
        if (error instanceof BrokerError && error.code === "broker-reset") break;
      }
    }
    if (this.#closed) {
      // Closed while connecting (its last listener left, or the broker closed): nobody to tell.
      throw new BrokerError("upstream-lost", "This live feed was closed; listen again.");
    }
    const error = lastError instanceof BrokerError && lastError.code === "broker-reset"
      ? lastError
      : new BrokerError(
        "upstream-lost",
        `The Upstash live feed could not be re-established after ${maxReconnectAttempts + 1} ` +
          "attempts; subscribers resume from their cursors when they reconnect.",
        { cause: lastError },
      );
    this.#failAll(error);
    throw error;
  }

  #failAll(error: BrokerError): void {
    const listeners = new Set<BrokerListener>();
    for (const set of this.#listeners.values()) for (const l of set) listeners.add(l);
    this.close();
    this.#onEmpty?.();
    for (const listener of listeners) listener.onError(error);
  }

  /** Opens a new subscribe stream; resolves on Redis' confirmation. Messages are buffered. */
  #subscribe(): Promise<void> {
    this.#buffer = [];
    this.#config.stats.subscribes++;
    const subscriber = this.#config.redis.subscribe<unknown>([this.#config.channel]);
    this.#subscriber = subscriber;
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        if (this.#unconfirm === fail) this.#unconfirm = undefined;
      };
      const fail = (error: Error) => {
        settle();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new BrokerError(
              "upstream-lost",
              `No subscribe confirmation within ${this.#config.pingTimeoutMs} ms.`,
            ),
          ),
        this.#config.pingTimeoutMs,
      );
      this.#unconfirm = fail;
      subscriber.on("subscribe", () => {
        settle();
        resolve();
      });
      subscriber.on("error", (error) => {
        if (this.#subscriber !== subscriber) {
          settle();
          return;
        }
        if (this.#live) this.#lost(error);
        else fail(error);
      });
      subscriber.on("message", ({ message }) => {
        if (this.#subscriber !== subscriber) return;
        let notification: Notification;
        try {
          notification =
            (typeof message === "string" ? JSON.parse(message) : message) as Notification;
        } catch (cause) {
          this.#lost(new BrokerError("broker-reply", "A notification was not JSON.", { cause }));
          return;
        }
        if (this.#buffer) this.#buffer.push(notification);
        else this.#handle(notification);
      });
    });
  }

  #dropSubscriber(): void {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) {
      // unsubscribe() aborts the stream; its promise only settles that abort.
      subscriber.unsubscribe().catch((error: unknown) => {
        if (!this.#closed) {
          console.warn("herald: closing an Upstash subscribe stream failed", error);
        }
      });
    }
  }

  /** Reads every tracked topic after the last id delivered, and delivers it. */
  async #catchUp(): Promise<void> {
    for (;;) {
      const requests = [...this.#delivered].map(([topic, after]) => ({ topic, after }));
      if (requests.length === 0) return;
      this.#config.stats.catchUpReads++;
      const read = await this.#config.read(requests, this.#config.pageSize);
      this.#epoch ??= read.epoch;
      if (read.epoch !== this.#epoch) {
        throw new BrokerError(
          "broker-reset",
          "The Redis store was reset (its epoch changed); subscribers resume from their cursors.",
        );
      }
      let more = false;
      for (const t of read.topics) {
        this.#deliver(t.topic, t.entries);
        more ||= t.more;
      }
      if (!more) return;
    }
  }

  #handle(notification: Notification): void {
    if (typeof notification.p === "string") {
      // Our own ping came back: the stream is alive; the next ping waits for this one.
      if (notification.p === `${this.#id}:${this.#pingSeq}` && this.#live) {
        clearTimeout(this.#pingDeadline);
        this.#schedule();
      }
      return;
    }
    if (typeof notification.c === "string") {
      const watchers = this.#cancelWatchers.get(notification.c);
      if (!watchers) return;
      const reason = typeof notification.r === "string" ? notification.r : "cancelled";
      for (const watcher of [...watchers]) watcher.onCancel(notification.c, reason);
      return;
    }
    if (typeof notification.t !== "string" || !Array.isArray(notification.e)) return;
    this.#deliver(notification.t, notification.e.map(([id, event]) => ({ id, event })));
  }

  #deliver(topic: string, entries: BrokerEntry[]): void {
    const listeners = this.#listeners.get(topic);
    if (!listeners || entries.length === 0) return;
    const last = this.#delivered.get(topic) ?? ZERO_POSITION;
    let start = 0;
    while (start < entries.length && comparePositions(entries[start].id, last) <= 0) start++;
    if (start === entries.length) return;
    const fresh = start === 0 ? entries : entries.slice(start);
    this.#delivered.set(topic, fresh[fresh.length - 1].id);
    for (const listener of [...listeners]) {
      try {
        listener.onEntries(topic, fresh);
      } catch (cause) {
        this.unlisten(listener);
        listener.onError(
          new BrokerError("upstream-lost", "A live listener failed and was removed.", { cause }),
        );
      }
    }
  }

  /** The next ping (subscribe mode) or poll (poll mode). */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    if (this.#config.mode === "poll") {
      this.#timer = setTimeout(() => this.#poll(), this.#config.pollIntervalMs);
    } else {
      this.#timer = setTimeout(() => this.#ping(), this.#config.pingIntervalMs);
    }
  }

  async #poll(): Promise<void> {
    this.#config.stats.polls++;
    try {
      await this.#catchUp();
      this.#schedule();
    } catch (error) {
      this.#lost(error);
    }
  }

  #ping(): void {
    if (!this.#live || this.#closed) return;
    this.#config.stats.pings++;
    const seq = ++this.#pingSeq;
    clearTimeout(this.#pingDeadline);
    this.#pingDeadline = setTimeout(
      () => this.#lost(new BrokerError("upstream-lost", "A liveness ping did not come back.")),
      this.#config.pingTimeoutMs,
    );
    this.#config.redis.publish(this.#config.channel, JSON.stringify({ p: `${this.#id}:${seq}` }))
      .catch((error: unknown) => this.#lost(error));
  }

  /** The upstream is gone or stalled: re-subscribe and catch up (listeners see nothing of it). */
  #lost(error: unknown): void {
    if (!this.#live || this.#closed) return;
    if (error instanceof BrokerError && error.code === "broker-reset") {
      this.#failAll(error);
      return;
    }
    this.#live = false;
    this.#config.stats.reconnects++;
    clearTimeout(this.#timer);
    clearTimeout(this.#pingDeadline);
    this.#dropSubscriber();
    this.#ensureLive().catch(() => {/* #connect has told every listener (onError) */});
  }
}
