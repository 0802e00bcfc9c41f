import { encodeEvent } from "../protocol/encode.ts";
import type { HubEvent } from "./broker.ts";
import { HubEventError } from "./errors.ts";

const ALLOWED_FIELDS = new Set(["event", "data"]);

/**
 * Checks what `hub.publish` was given and returns it as a list of {@link HubEvent}s. Throws
 * {@link HubEventError} before anything is stored.
 *
 * @example
 * ```ts
 * import { validateHubEvents } from "@herald/sse";
 * console.log(validateHubEvents({ data: "hi" })); // [{ data: "hi" }]
 * ```
 */
export function validateHubEvents(input: HubEvent | readonly HubEvent[]): HubEvent[] {
  const events = Array.isArray(input) ? [...input] : [input as HubEvent];
  if (events.length === 0) {
    throw new HubEventError("empty-publish", "publish() needs at least one event.");
  }
  for (const event of events) {
    if (typeof event !== "object" || event === null) {
      throw new HubEventError(
        "invalid-event",
        `A hub event is an object { event?, data }, got ${event === null ? "null" : typeof event}.`,
      );
    }
    for (const key of Object.keys(event)) {
      if (!ALLOWED_FIELDS.has(key)) {
        throw new HubEventError(
          "invalid-event",
          `A hub event may hold only "event" and "data", not ${JSON.stringify(key)}: ids are ` +
            "the hub's to assign (they are the resume cursor).",
        );
      }
    }
    try {
      // The encoder is the one judge of what can go on the wire: refuse now, not per subscriber.
      encodeEvent(event);
    } catch (cause) {
      throw new HubEventError(
        "invalid-event",
        `This event can't be sent: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  return events;
}
