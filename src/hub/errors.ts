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
 * import { createHub, HubCursorError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * try {
 *   await hub.subscribe({ topics: ["news"], lastEventId: "garbage" });
 * } catch (error) {
 *   if (error instanceof HubCursorError) console.log(error.code); // "malformed-cursor"
 * }
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
 * import { createHub, HubTopicError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * try {
 *   await hub.publish("no spaces", { data: "x" });
 * } catch (error) {
 *   if (error instanceof HubTopicError) console.log(error.code); // "invalid-topic"
 * }
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
 */
export type BrokerErrorCode =
  | "broker-unavailable"
  | "broker-reply"
  | "upstream-lost"
  | "broker-reset"
  | "slow-subscriber";

/**
 * A failure of a broker or of the hub's delivery to one subscriber.
 *
 * @example
 * ```ts
 * import { BrokerError } from "@herald/sse";
 * const error = new BrokerError("broker-unavailable", "Redis did not answer: check the URL.");
 * console.log(error.code); // "broker-unavailable"
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
 * - `invalid-event`: not an object, an unknown field (`id` and `retry` are the hub's), an event
 *   name with CR or LF, or data with no JSON form.
 * - `empty-publish`: an empty list of events.
 */
export type HubEventErrorCode = "invalid-event" | "empty-publish";

/**
 * An event `hub.publish` refuses. Nothing of the call is stored.
 *
 * @example
 * ```ts
 * import { createHub, HubEventError, MemoryBroker } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * try {
 *   await hub.publish("news", { event: "a\nb", data: "x" });
 * } catch (error) {
 *   if (error instanceof HubEventError) console.log(error.code); // "invalid-event"
 * }
 * ```
 */
export class HubEventError extends HeraldError {
  declare readonly code: HubEventErrorCode;

  constructor(code: HubEventErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
