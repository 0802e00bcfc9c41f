// Reader presence: which running streams this hub has open readers of, told to the broker in one
// call per interval for all of them. The broker counts hubs, not readers, so a stream's producer
// learns whether anyone anywhere reads it (for `idleCancelMs`), and a hub serving a reader notices
// a producer whose lease expired (the broker ends that stream `lost` during the call).
//
// Where timers can serve every request (Deno, Bun) one timer per hub drives the calls. Where a
// timer belongs to the request that made it (Workers), each reader's ticket holds its own timer
// and the first one due makes the call for the whole hub, so a reader that leaves can't take the
// hub's only timer with it.
import { timersCrossRequests } from "../capabilities.ts";
import type { SSELogger } from "../server/options.ts";
import type { StreamBroker } from "./broker.ts";

/** One reader's registration; {@link PresenceTracker.leave} takes it back. */
export interface PresenceTicket {
  topics: string[];
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Counts this hub's readers per stream topic and reports them to the broker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryBroker } from "./memory_broker.ts";
 * import { PresenceTracker } from "./presence.ts";
 * const broker = new MemoryBroker();
 * const { fence } = await broker.claimStream("s", { owner: "p", leaseMs: 5000, ttlMs: 1000 });
 * const tracker = new PresenceTracker(broker, "reader-hub", 1000, console);
 * const ticket = tracker.join(["s"]);
 * await tracker.touchNow();
 * const seen = await broker.appendStream("s", fence!, [], { seq: 1, leaseMs: 5000, ttlMs: 1000 });
 * assert.equal(seen.readers, 1);
 * tracker.leave(ticket);
 * await tracker.touchNow();
 * const left = await broker.appendStream("s", fence!, [], { seq: 2, leaseMs: 5000, ttlMs: 1000 });
 * assert.equal(left.readers, 0);
 * ```
 */
export class PresenceTracker {
  readonly #broker: StreamBroker;
  readonly #owner: string;
  readonly #intervalMs: number;
  readonly #logger: SSELogger;
  readonly #sharedTimer: boolean;
  #counts = new Map<string, number>();
  #left = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastTouchMs = -Infinity;
  #touching: Promise<void> | undefined;
  #failing = false;

  constructor(
    broker: StreamBroker,
    owner: string,
    intervalMs: number,
    logger: SSELogger,
    sharedTimer: boolean = timersCrossRequests,
  ) {
    this.#broker = broker;
    this.#owner = owner;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
    this.#sharedTimer = sharedTimer;
  }

  /** Topics this hub reports now. */
  get topics(): string[] {
    return [...this.#counts.keys()];
  }

  /** A reader of `topics` opened. */
  join(topics: string[]): PresenceTicket {
    let fresh = false;
    for (const topic of topics) {
      const count = this.#counts.get(topic) ?? 0;
      if (count === 0) {
        fresh = true;
        this.#left.delete(topic);
      }
      this.#counts.set(topic, count + 1);
    }
    const ticket: PresenceTicket = { topics, timer: undefined };
    if (this.#sharedTimer) {
      // A topic new to this hub is reported soon (within the interval's budget), so a stream that
      // just got its first reader does not look unwatched.
      if (fresh) this.#schedule();
    } else {
      this.#tickFor(ticket, fresh ? 0 : this.#intervalMs);
    }
    return ticket;
  }

  /** The reader holding `ticket` closed (or stopped reading `topics`). */
  leave(ticket: PresenceTicket, topics: readonly string[] = ticket.topics): void {
    for (const topic of topics) {
      const index = ticket.topics.indexOf(topic);
      if (index === -1) continue;
      ticket.topics.splice(index, 1);
      const count = (this.#counts.get(topic) ?? 1) - 1;
      if (count > 0) {
        this.#counts.set(topic, count);
      } else {
        this.#counts.delete(topic);
        this.#left.add(topic);
      }
    }
    if (ticket.topics.length === 0) {
      clearTimeout(ticket.timer);
      ticket.timer = undefined;
    }
    if (this.#sharedTimer && this.#left.size > 0) this.#schedule();
  }

  /** Reports now (tests; and the first report of a hub). */
  touchNow(): Promise<void> {
    return this.#touch();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const delayMs = Math.max(0, this.#lastTouchMs + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#touch().finally(() => {
        if (this.#counts.size > 0 || this.#left.size > 0) this.#schedule();
      });
    }, delayMs);
  }

  /** Workers: this reader's own timer; whichever reader is due first reports for the hub. */
  #tickFor(ticket: PresenceTicket, delayMs: number): void {
    clearTimeout(ticket.timer);
    ticket.timer = setTimeout(() => {
      if (ticket.topics.length === 0) return;
      const dueMs = this.#lastTouchMs + this.#intervalMs;
      const now = Date.now();
      if (now >= dueMs - this.#intervalMs / 10 || this.#left.size > 0) void this.#touch();
      this.#tickFor(ticket, this.#intervalMs);
    }, delayMs);
  }

  #touch(): Promise<void> {
    if (this.#touching) return this.#touching;
    if (this.#counts.size === 0 && this.#left.size === 0) return Promise.resolve();
    const topics = [...this.#counts.keys()];
    const left = [...this.#left];
    this.#left.clear();
    this.#lastTouchMs = Date.now();
    this.#touching = this.#broker.touchPresence({
      owner: this.#owner,
      topics,
      left,
      // Three intervals: one late report is no absence.
      ttlMs: this.#intervalMs * 3,
    }).then(
      () => {
        this.#failing = false;
      },
      (error) => {
        // Try again next time; a reader's absence then shows only as its report's TTL running out.
        for (const topic of left) if (!this.#counts.has(topic)) this.#left.add(topic);
        if (!this.#failing) {
          this.#failing = true;
          this.#logger.error(
            "Herald hub: reporting stream readers to the broker failed; retrying each interval.",
            error,
          );
        }
      },
    ).finally(() => (this.#touching = undefined));
    return this.#touching;
  }
}
