import { utf8Length } from "../protocol/utf8_length.ts";
import { counters } from "./stats.ts";

// A native scan: for ASCII text the UTF-8 length is the string's length.
// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * What a connection does when a slow client lets its queue fill:
 * - `"close"`: end the stream with reason `slow-client`; the client reconnects and resumes by its
 *   Last-Event-ID (right for event logs, chat, notifications).
 * - `"drop-oldest"`: drop the oldest queued events to make room (right for state snapshots, where
 *   only the latest matters).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseResponse, type SSEQueuePolicy } from "@herald/sse";
 * const queuePolicy: SSEQueuePolicy = "drop-oldest";
 * const response = sseResponse([{ data: "snapshot" }], { queuePolicy, maxQueuedEvents: 16 });
 * assert.equal(await response.text(), ":\n\ndata: snapshot\n\n");
 * ```
 */
export type SSEQueuePolicy = "close" | "drop-oldest";

/**
 * A bounded FIFO of encoded events (strings), counted in events and UTF-8 bytes. The network takes
 * everything at once ({@link EventQueue.drain}), so a burst becomes one chunk. Counts are mirrored
 * into the isolate's {@link counters}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventQueue } from "./queue.ts";
 * const queue = new EventQueue(10, 1024);
 * queue.push("data: a\n\n");
 * queue.push("data: b\n\n");
 * assert.equal(queue.bytes, 18);
 * assert.equal(queue.drain(), "data: a\n\ndata: b\n\n");
 * assert.equal(queue.length, 0);
 * ```
 */
export class EventQueue {
  // One queued event is a field; an array is made only for a second one. A broadcast queues one
  // event per connection and the network takes it at once: no array per delivery, and an idle
  // connection's queue holds nothing.
  #one: string | undefined;
  #items: string[] | undefined;
  #head = 0; // items before this index were dropped (drop-oldest) and are garbage
  #bytes = 0;

  constructor(readonly maxEvents: number, readonly maxBytes: number) {}

  /** Queued events. */
  get length(): number {
    if (this.#items === undefined) return this.#one === undefined ? 0 : 1;
    return this.#items.length - this.#head;
  }

  /** UTF-8 bytes of the queued events. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether an event of `size` bytes fits without breaking either bound. */
  fits(size: number): boolean {
    return this.length < this.maxEvents && this.#bytes + size <= this.maxBytes;
  }

  /** Measures an encoded event in UTF-8 bytes; ASCII (most events) is measured natively. */
  static sizeOf(text: string): number {
    return NON_ASCII.test(text) ? utf8Length(text) : text.length;
  }

  /** Appends an encoded event of `size` bytes (the caller checked {@link fits}). */
  push(text: string, size: number = EventQueue.sizeOf(text)): void {
    if (this.#items !== undefined) this.#items.push(text);
    else if (this.#one === undefined) this.#one = text;
    else {
      this.#items = [this.#one, text];
      this.#one = undefined;
    }
    this.#bytes += size;
    counters.queuedEvents++;
    counters.queuedBytes += size;
  }

  /** Drops the oldest event; returns whether there was one. */
  dropOldest(): boolean {
    if (this.length === 0) return false;
    if (this.#items === undefined) {
      this.clear(); // the one event holds every queued byte
      return true;
    }
    const items = this.#items;
    // Measured again rather than stored: dropping is the rare path, pushing the hot one.
    const size = EventQueue.sizeOf(items[this.#head]);
    items[this.#head] = "";
    this.#head++;
    this.#bytes -= size;
    counters.queuedEvents--;
    counters.queuedBytes -= size;
    // Compact now and then so dropped slots don't pile up under a steady stream of drops.
    if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** Takes every queued event as one string ("" when empty). */
  drain(): string {
    const count = this.length;
    if (count === 0) return "";
    if (this.#items === undefined) {
      const one = this.#one!;
      this.clear();
      return one;
    }
    const items = this.#items;
    const text = count === 1
      ? items[this.#head]
      : (this.#head === 0 ? items.join("") : items.slice(this.#head).join(""));
    this.clear();
    return text;
  }

  /** Forgets every queued event. */
  clear(): void {
    counters.queuedEvents -= this.length;
    counters.queuedBytes -= this.#bytes;
    this.#items = undefined;
    this.#one = undefined;
    this.#head = 0;
    this.#bytes = 0;
  }
}
