// Where timers may cross requests (`timersCrossRequests`: Deno, Bun), the open responses share one
// interval per period instead of owning a timer each: an idle connection is then little more than
// its socket (a timer is about a kilobyte on Bun, a good part of an idle stream's memory). On
// Workers each response must own its timers (I/O and timers belong to the request that made them),
// and an injected clock is the test's to drive, so there each connection keeps its own timer.
import { timersCrossRequests } from "../capabilities.ts";
import { type SSEClock, systemClock } from "./clock.ts";
import { counters } from "./stats.ts";

/** What a ticker wakes: a connection checking its keep-alive, slow-client and duration dues. */
export interface Wakeable {
  wake(now: number): void;
}

/**
 * One interval shared by every member: runs while it has members, stops with the last one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Ticker } from "./ticker.ts";
 * const ticker = new Ticker(10);
 * const woken = Promise.withResolvers<number>();
 * const member = { wake: (now: number) => woken.resolve(now) };
 * ticker.add(member);
 * assert.equal(typeof await woken.promise, "number");
 * ticker.delete(member); // the last member: the interval stops
 * ```
 */
export class Ticker {
  readonly #members = new Set<Wakeable>();
  #handle: ReturnType<typeof setInterval> | undefined;

  constructor(readonly periodMs: number) {}

  /** Starts waking `member` every period. */
  add(member: Wakeable): void {
    this.#members.add(member);
    if (this.#handle !== undefined) return;
    counters.timers++;
    this.#handle = setInterval(() => this.#fire(), this.periodMs);
  }

  /** Stops waking `member`; the interval stops with the last member. */
  delete(member: Wakeable): void {
    this.#members.delete(member);
    if (this.#members.size > 0 || this.#handle === undefined) return;
    clearInterval(this.#handle);
    this.#handle = undefined;
    counters.timers--;
  }

  #fire(): void {
    const now = Date.now();
    // A member that closes during its wake leaves the set; Set iteration allows that.
    for (const member of this.#members) {
      try {
        member.wake(now);
      } catch (error) {
        // One connection's failure (a logger that throws) must not stop the others' timers.
        console.error("Herald sseResponse: a connection's timer failed.", error);
      }
    }
  }
}

const tickers = new Map<number, Ticker>();

/**
 * The shared ticker for a connection with these timings, or `undefined` where each connection
 * must own its timer (Workers, Vercel Edge, any runtime where timers don't cross requests, an
 * injected clock). The period is a tenth of the shortest of keep-alive, slow-client timeout and
 * max duration (10 ms to 1 s), so none of them is more than 10 % late.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timersCrossRequests } from "../capabilities.ts";
 * import { systemClock } from "./clock.ts";
 * import { sharedTickerFor } from "./ticker.ts";
 * const ticker = sharedTickerFor(systemClock, 15_000, 30_000, undefined);
 * assert.equal(ticker?.periodMs, timersCrossRequests ? 1000 : undefined);
 * ```
 */
export function sharedTickerFor(
  clock: SSEClock,
  keepAliveMs: number,
  slowClientTimeoutMs: number,
  maxDurationMs: number | undefined,
): Ticker | undefined {
  if (clock !== systemClock || !timersCrossRequests) return undefined;
  const base = Math.min(
    keepAliveMs > 0 ? keepAliveMs : Infinity,
    slowClientTimeoutMs,
    maxDurationMs ?? Infinity,
  );
  const periodMs = Math.min(1_000, Math.max(10, Math.round(base / 10)));
  let ticker = tickers.get(periodMs);
  if (!ticker) {
    ticker = new Ticker(periodMs);
    tickers.set(periodMs, ticker);
  }
  return ticker;
}
