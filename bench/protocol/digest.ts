// A digest of a sequence of dispatched events, so that two contenders can be compared without
// holding both outputs: FNV-1a over every event's type, id and data, plus counts.

/** The fields every parser reports, normalised (eventsource-parser says `undefined` for "message"). */
export interface ParsedEvent {
  event?: string;
  id?: string;
  data: string;
}

/** Accumulates a digest of events as they are dispatched. */
export class EventDigest {
  #hash = 0x811c9dc5;
  #events = 0;
  #chars = 0;

  add(event: ParsedEvent, data: string = event.data): void {
    this.#events++;
    this.#chars += data.length;
    this.#mix(event.event === undefined || event.event === "" ? "message" : event.event);
    this.#mix(event.id === undefined ? "\u0000none" : event.id);
    this.#mix(data);
  }

  #mix(text: string): void {
    let hash = this.#hash;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    // A separator, so "ab"+"c" and "a"+"bc" differ.
    hash ^= 0x1f;
    this.#hash = Math.imul(hash, 0x01000193);
  }

  get events(): number {
    return this.#events;
  }

  toString(): string {
    return `${this.#events} events, ${this.#chars} data chars, fnv ${
      (this.#hash >>> 0).toString(16)
    }`;
  }
}
