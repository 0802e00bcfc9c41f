import { topicsTag } from "./cursor.ts";

/** A sorted topic list and its cursor tag, shared by every subscriber of the same topics. */
export interface TopicList {
  readonly sorted: readonly string[];
  readonly tag: string;
}

/** How many distinct topic lists a hub remembers before it starts over. */
export const TOPIC_LIST_CACHE_SIZE = 256;

/**
 * Hands out one shared {@link TopicList} per distinct list of topics, so 10k subscribers of a
 * topic hold one array and one tag between them instead of one each. Bounded: past
 * {@link TOPIC_LIST_CACHE_SIZE} lists it forgets them all and starts over (a list is then simply
 * made again), so what clients ask for never grows the hub's memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicListCache } from "./topic_list_cache.ts";
 * const cache = new TopicListCache();
 * const first = cache.get(["news"]);
 * const second = cache.get(["news"]);
 * assert.equal(first, second);
 * assert.deepEqual(first.sorted, ["news"]);
 * assert.notEqual(cache.get(["a", "b"]).tag, first.tag);
 * ```
 */
export class TopicListCache {
  #lists = new Map<string, TopicList>();

  constructor(readonly maxLists: number = TOPIC_LIST_CACHE_SIZE) {}

  /** The shared list for `sorted` (already validated, deduplicated and sorted). */
  get(sorted: readonly string[]): TopicList {
    // "\n" can't occur in a topic name, so the key is unambiguous.
    const key = sorted.length === 1 ? sorted[0] : sorted.join("\n");
    let list = this.#lists.get(key);
    if (list === undefined) {
      if (this.#lists.size >= this.maxLists) this.#lists.clear();
      list = { sorted: Object.freeze([...sorted]), tag: topicsTag(sorted) };
      this.#lists.set(key, list);
    }
    return list;
  }

  /** Lists remembered now. */
  get size(): number {
    return this.#lists.size;
  }
}
