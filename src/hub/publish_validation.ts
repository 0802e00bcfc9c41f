import { encodeEvent } from "../protocol/encode.ts";
import type { HubEvent } from "./broker.ts";
import { HubEventError } from "./errors.ts";
import {
  checkMaxHubEventBytes,
  DEFAULT_MAX_HUB_EVENT_BYTES,
  eventNameProblem,
  fitsHubEvent,
  HUB_ID_LINE_BYTES,
  RESERVED_EVENT_PREFIX,
} from "./event_limits.ts";

/**
 * Checks what `hub.publish` was given and returns it as a list of new {@link HubEvent}s, each
 * field of the caller's objects read once (a getter can't change an event after its check).
 * Throws {@link HubEventError} before anything is stored, whatever the input:
 * - `empty-publish`: no events;
 * - `invalid-event`: not an object, a field other than `event` and `data` (ids are the hub's),
 *   a throwing getter or Proxy, or data the encoder refuses (cycles, BigInts, no JSON form);
 * - `invalid-event-name`: a name that is not a string, is longer than 256 bytes, or holds a
 *   control character or a lone surrogate;
 * - `reserved-event-name`: a name starting with `herald.`, the prefix of the hub's own events;
 * - `event-too-large`: the event as written (its `event:` and `data:` lines, and the `id:` line
 *   the hub adds, counted as {@link HUB_ID_LINE_BYTES}) is over `maxEventBytes` UTF-8 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateHubEvents } from "./publish_validation.ts";
 * import { HubEventError } from "./errors.ts";
 * assert.deepEqual(validateHubEvents({ event: "tick", data: { n: 1 } }), [
 *   { event: "tick", data: { n: 1 } },
 * ]);
 * assert.throws(
 *   () => validateHubEvents({ event: "herald.end", data: "forged" }),
 *   (error) => error instanceof HubEventError && error.code === "reserved-event-name",
 * );
 * assert.throws(
 *   () => validateHubEvents({ data: "x".repeat(5000) }, 4096),
 *   (error) => error instanceof HubEventError && error.code === "event-too-large",
 * );
 * ```
 */
export function validateHubEvents(
  input: HubEvent | readonly HubEvent[],
  maxEventBytes: number = DEFAULT_MAX_HUB_EVENT_BYTES,
): HubEvent[] {
  checkMaxHubEventBytes(maxEventBytes);
  const given = listOf(input);
  if (given.length === 0) {
    throw new HubEventError("empty-publish", "publish() needs at least one event.");
  }
  const events: HubEvent[] = [];
  for (const item of given) events.push(validateOne(item, maxEventBytes));
  return events;
}

/** The caller's events as an array of our own, read by index (no caller-defined iterator). */
function listOf(input: HubEvent | readonly HubEvent[]): unknown[] {
  try {
    if (!Array.isArray(input)) return [input];
    const list: unknown[] = [];
    for (let i = 0; i < input.length; i++) list.push(input[i]);
    return list;
  } catch (cause) {
    throw unreadable(cause);
  }
}

function unreadable(cause: unknown): HubEventError {
  return new HubEventError(
    "invalid-event",
    "Reading the events to publish threw: pass plain objects { event?, data }.",
    { cause },
  );
}

function validateOne(item: unknown, maxEventBytes: number): HubEvent {
  if (typeof item !== "object" || item === null) {
    throw new HubEventError(
      "invalid-event",
      `A hub event is an object { event?, data }, got ${item === null ? "null" : typeof item}.`,
    );
  }
  let name: unknown;
  let data: unknown;
  try {
    for (const key of Object.keys(item)) {
      if (key !== "event" && key !== "data") {
        throw new HubEventError(
          "invalid-event",
          `A hub event may hold only "event" and "data", not ${JSON.stringify(key)}: ids are ` +
            "the hub's to assign (they are the resume cursor).",
        );
      }
    }
    name = (item as HubEvent).event;
    data = (item as HubEvent).data;
  } catch (cause) {
    if (cause instanceof HubEventError) throw cause;
    throw unreadable(cause);
  }
  if (name !== undefined) checkName(name);
  const event: HubEvent = {};
  if (name !== undefined) event.event = name as string;
  if (data !== undefined) event.data = data;
  let encoded: string;
  try {
    // The encoder is the one judge of what can go on the wire: refuse now, not per subscriber.
    // It never recurses in our code, and turns the runtime's own stack overflow in JSON (data
    // nested too deep) into its typed error.
    encoded = encodeEvent(event);
  } catch (cause) {
    throw new HubEventError(
      "invalid-event",
      `This event can't be sent: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!fitsHubEvent(encoded, maxEventBytes)) {
    throw new HubEventError(
      "event-too-large",
      `This event takes more than maxEventBytes (${maxEventBytes} bytes) as written, with ` +
        `${HUB_ID_LINE_BYTES} bytes for the id the hub adds. Send smaller events (split the ` +
        "data), or raise the hub's maxEventBytes, and every client's with it.",
    );
  }
  return event;
}

function checkName(name: unknown): void {
  if (typeof name !== "string") {
    throw new HubEventError(
      "invalid-event-name",
      `An event name is a string, got ${name === null ? "null" : typeof name}.`,
    );
  }
  const problem = eventNameProblem(name);
  if (problem !== undefined) {
    throw new HubEventError(
      "invalid-event-name",
      `The event name ${JSON.stringify(name.slice(0, 64))}${name.length > 64 ? "…" : ""} can't ` +
        `be published: ${problem}. Use a short printable name, such as "price.update".`,
    );
  }
  if (name.startsWith(RESERVED_EVENT_PREFIX)) {
    throw new HubEventError(
      "reserved-event-name",
      `Event names starting with "${RESERVED_EVENT_PREFIX}" are the hub's own (such as ` +
        `"herald.history-lost" and "herald.end"); a publisher can't send ${
          JSON.stringify(name)
        }. Use another name.`,
    );
  }
}
