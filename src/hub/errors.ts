import { HeraldError } from "../errors.ts";

/**
 * Why a `Last-Event-ID` cursor was refused (`hub.response` answers 400 with the message).
 * - `malformed-cursor`: not a Herald cursor (garbage, wrong version, bad parts).
 * - `cursor-topics-mismatch`: the cursor was made for another set of topics (wrong topic count
 *   or another topic list).
 * - `cursor-ahead`: a position lies after the newest event of its topic: the cursor was forged
 *   or belongs to another deployment.
 * - `cursor-signature`: the hub signs cursors (`cursorSecret`) and this one's signature is wrong.
 */
export type HubCursorErrorCode =
  | "malformed-cursor"
  | "cursor-topics-mismatch"
  | "cursor-ahead"
  | "cursor-signature";

/**
 * A cursor (the event id a client resumes with) that the hub refuses. Never a crash, never a
 * silent full replay: the client is told, and may reconnect without `Last-Event-ID`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, HubCursorError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * await assert.rejects(
 *   hub.subscribe({ topics: ["news"], lastEventId: "garbage" }),
 *   (error) => error instanceof HubCursorError && error.code === "malformed-cursor",
 * );
 * ```
 */
export class HubCursorError extends HeraldError {
  declare readonly code: HubCursorErrorCode;

  constructor(code: HubCursorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Why topics were refused.
 * - `invalid-topic`: not a string, empty, too long, or with characters outside `[A-Za-z0-9_.:/-]`.
 * - `too-many-topics`: more topics in one subscription than the hub's `maxTopicsPerSubscription`.
 * - `no-topics`: a subscription needs at least one topic.
 */
export type HubTopicErrorCode = "invalid-topic" | "too-many-topics" | "no-topics";

/**
 * A topic name or topic list that the hub refuses (`hub.response` answers 400).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, HubTopicError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * await assert.rejects(
 *   hub.publish("no spaces", { data: "x" }),
 *   (error) => error instanceof HubTopicError && error.code === "invalid-topic",
 * );
 * ```
 */
export class HubTopicError extends HeraldError {
  declare readonly code: HubTopicErrorCode;

  constructor(code: HubTopicErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Why a broker failed.
 * - `broker-unavailable`: the store could not be reached or answered an error.
 * - `broker-reply`: the store answered something the broker does not understand.
 * - `upstream-lost`: the live feed was lost and could not be re-established; subscribers' streams
 *   end with this error, and clients resume from their cursor.
 * - `broker-reset`: the store was reset (its epoch changed) under a live subscription.
 * - `slow-subscriber`: a subscriber fell more than `maxQueuedEvents` behind; its stream ends and the
 *   client resumes from its cursor.
 * - `lease-lost`: a stream's append came with a fence that is not the running stream's: its
 *   producer's lease expired and the stream was ended (or expired) meanwhile. Nothing was written.
 */
export type BrokerErrorCode =
  | "broker-unavailable"
  | "broker-reply"
  | "upstream-lost"
  | "broker-reset"
  | "slow-subscriber"
  | "lease-lost";

/**
 * A failure of a broker or of the hub's delivery to one subscriber.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokerError, HeraldError } from "@herald/sse";
 * const error = new BrokerError("broker-unavailable", "Redis did not answer: check the URL.");
 * assert.equal(error.code, "broker-unavailable");
 * assert.ok(error instanceof HeraldError);
 * ```
 */
export class BrokerError extends HeraldError {
  declare readonly code: BrokerErrorCode;

  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Why a published event was refused.
 * - `invalid-event`: not an object, an unknown field (`id` and `retry` are the hub's), a
 *   throwing getter or Proxy, or data the encoder refuses (no JSON form, cycles, BigInts).
 * - `invalid-event-name`: an event name that is not a string, is longer than 256 bytes, or
 *   holds a control character (CR, LF, NUL, any C0, DEL, C1) or a lone surrogate.
 * - `reserved-event-name`: an event name starting with `herald.`, the hub's own events.
 * - `event-too-large`: the event as written (name, data and the id the hub adds) is over the
 *   hub's `maxEventBytes` (default 1 MiB).
 * - `empty-publish`: an empty list of events.
 */
export type HubEventErrorCode =
  | "invalid-event"
  | "invalid-event-name"
  | "reserved-event-name"
  | "event-too-large"
  | "empty-publish";

/**
 * An event `hub.publish` refuses. Nothing of the call is stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, HubEventError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * await assert.rejects(
 *   hub.publish("news", { id: "7", data: "x" } as never), // ids are the hub's to give
 *   (error) => error instanceof HubEventError && error.code === "invalid-event",
 * );
 * ```
 */
export class HubEventError extends HeraldError {
  declare readonly code: HubEventErrorCode;

  constructor(code: HubEventErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Why a stream's producer was stopped (the `code` of `out.signal.reason`):
 * - `stream-cancelled`: `hub.cancelStream` was called, or nobody read the stream for
 *   `idleCancelMs` (`reason` is then `"unwatched"`). The stream ends `cancelled`.
 * - `lease-lost`: the producer could not renew its lease in time (it stalled, or the store was
 *   unreachable), and the stream was ended `lost` by another hub; nothing it writes is kept.
 * - `stream-ended`: a write came after the stream had ended.
 * - `stream-overflow`: writes were not awaited and piled up past what the producer may buffer;
 *   `await out.write(...)` (it resolves as soon as the broker can take more).
 */
export type HubStreamErrorCode =
  | "stream-cancelled"
  | "lease-lost"
  | "stream-ended"
  | "stream-overflow";

/**
 * Why a stream's producer was stopped or a write refused: the reason of `out.signal` (so an
 * upstream `fetch` given the signal rejects with it), and the rejection of a refused
 * `out.write`. `reason` holds the cancel reason for `stream-cancelled`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, HubStreamError, MemoryBroker } from "@herald/sse/hub";
 * const hub = createHub({ broker: new MemoryBroker() });
 * let stopped: unknown;
 * let running: Promise<unknown> | undefined;
 * await hub.startStream("answer:2", async (out) => {
 *   await hub.cancelStream("answer:2", "stop button");
 *   stopped = out.signal.reason;
 * }, { waitUntil: (promise) => (running = promise) });
 * await running;
 * assert.ok(stopped instanceof HubStreamError);
 * assert.equal(stopped.code, "stream-cancelled");
 * assert.equal(stopped.reason, "stop button");
 * ```
 */
export class HubStreamError extends HeraldError {
  declare readonly code: HubStreamErrorCode;
  /** The cancel reason, for `stream-cancelled`. */
  readonly reason: string | undefined;

  constructor(
    code: HubStreamErrorCode,
    message: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(code, message, options);
    this.reason = options?.reason;
  }
}
