import type { ClientTimers } from "./timers.ts";

/**
 * Calls `onIdle` when `arm()` was not called again within `idleMs`: the connection is dead.
 * A disabled watchdog (`idleMs` undefined or 0) never fires.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdleWatchdog } from "./idle_watchdog.ts";
 * import { GLOBAL_TIMERS } from "./timers.ts";
 * const idle = Promise.withResolvers<string>();
 * const watchdog = new IdleWatchdog(20, GLOBAL_TIMERS, () => idle.resolve("idle"));
 * watchdog.arm(); // call on every chunk received
 * assert.equal(await idle.promise, "idle"); // nothing came for 20 ms
 * ```
 */
export class IdleWatchdog {
  readonly #idleMs: number | undefined;
  readonly #timers: ClientTimers;
  readonly #onIdle: () => void;
  #timer: unknown;
  #armed = false;

  constructor(idleMs: number | undefined, timers: ClientTimers, onIdle: () => void) {
    this.#idleMs = idleMs;
    this.#timers = timers;
    this.#onIdle = onIdle;
  }

  /** (Re)starts the countdown: call when a request starts and on every chunk. */
  arm(): void {
    if (!this.#idleMs) return;
    this.stop();
    this.#armed = true;
    this.#timer = this.#timers.setTimeout(() => {
      if (!this.#armed) return;
      this.#armed = false;
      this.#onIdle();
    }, this.#idleMs);
  }

  /** Stops the countdown (while the consumer is busy, and when the attempt ends). */
  stop(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#timers.clearTimeout(this.#timer);
  }
}
