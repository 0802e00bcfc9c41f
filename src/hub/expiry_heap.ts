// A binary min-heap of (topic, time) records: what lets a broker expire topics in time order
// with an amortised sweep on each of its operations, instead of a timer that would keep the
// process alive.

/** One record: `topic` may expire at `atMs`. */
export interface ExpiryRecord {
  topic: string;
  atMs: number;
}

/**
 * Records ordered by time, earliest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExpiryHeap } from "./expiry_heap.ts";
 * const heap = new ExpiryHeap();
 * heap.push("b", 20);
 * heap.push("a", 10);
 * assert.equal(heap.popDue(15)?.topic, "a");
 * assert.equal(heap.popDue(15), undefined);
 * assert.equal(heap.size, 1);
 * ```
 */
export class ExpiryHeap {
  #items: ExpiryRecord[] = [];

  /** Records held. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds a record. */
  push(topic: string, atMs: number): void {
    const items = this.#items;
    items.push({ topic, atMs });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].atMs <= items[i].atMs) break;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  /** Removes and returns the earliest record if it is due at `nowMs`. */
  popDue(nowMs: number): ExpiryRecord | undefined {
    const items = this.#items;
    if (items.length === 0 || items[0].atMs > nowMs) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && items[left].atMs < items[least].atMs) least = left;
        if (right < items.length && items[right].atMs < items[least].atMs) least = right;
        if (least === i) break;
        [items[least], items[i]] = [items[i], items[least]];
        i = least;
      }
    }
    return top;
  }

  /** Forgets every record. */
  clear(): void {
    this.#items = [];
  }
}
