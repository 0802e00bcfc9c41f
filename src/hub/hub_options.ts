// The options of createHub, hub.subscribe and hub.response, in a file of their own so that the
// hub and its response builder both read them without importing each other.
import type { SSELogger, SSEResponseOptions } from "../server/options.ts";
import type { Broker } from "./broker.ts";

/**
 * Options of `createHub`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, type HubOptions, MemoryBroker } from "@herald/sse";
 * const options: HubOptions = {
 *   broker: new MemoryBroker({ maxEventsPerTopic: 5_000 }),
 *   cursorSecret: "a secret of at least 16 characters",
 *   maxTopicsPerSubscription: 8,
 * };
 * const hub = createHub(options);
 * assert.equal(hub.broker, options.broker);
 * ```
 */
export interface HubOptions {
  /** Where topics live: `new MemoryBroker()` for one isolate, `UpstashBroker` across isolates. */
  broker: Broker;
  /** Topics one subscription may hold. Default 32. */
  maxTopicsPerSubscription?: number;
  /** History entries read per topic per broker call during replay. Default 500. */
  replayPageSize?: number;
  /**
   * Events a subscriber may have queued and unsent before it is disconnected (its client then
   * resumes from its cursor). Default 10 000.
   */
  maxQueuedEvents?: number;
  /**
   * A secret (16+ characters) to sign cursors with (HMAC-SHA256): a client can't edit its
   * cursor to read positions it was never sent. Same secret on every server of a deployment.
   */
  cursorSecret?: string;
  /**
   * How often this hub tells the broker which running streams it has readers of, in ms (one
   * broker call per interval for all of them, only while there are some). It is how
   * `idleCancelMs` knows that nobody reads, and how a stream whose producer died is noticed.
   * Default 1000.
   */
  presenceIntervalMs?: number;
  /** Where the hub reports failures of its own (a failed presence report). Default `console`. */
  logger?: SSELogger;
}

/**
 * Options of `hub.subscribe`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, MemoryBroker, type SubscribeOptions } from "@herald/sse";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const controller = new AbortController();
 * const options: SubscribeOptions = { topics: ["b", "a"], signal: controller.signal };
 * const reader = (await hub.subscribe(options)).getReader();
 * assert.match((await reader.read()).value!.id!, /^h1\./);
 * controller.abort();
 * assert.equal((await reader.read()).done, true);
 * ```
 */
export interface SubscribeOptions {
  /** The topics, validated, de-duplicated and sorted (the cursor follows that order). */
  topics: readonly string[];
  /** The cursor to resume after (a `Last-Event-ID`); none = start now. */
  lastEventId?: string | null;
  /** Ends the stream (and the live listener) when aborted. */
  signal?: AbortSignal;
}

/**
 * What `onDeliver` of `hub.response` is told about one event sent to the client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHub, type DeliveryInfo, MemoryBroker } from "@herald/sse/hub";
 * const hub = createHub({ broker: new MemoryBroker() });
 * const seen: DeliveryInfo[] = [];
 * const controller = new AbortController();
 * const response = await hub.response(new Request("http://localhost/events"), {
 *   topics: ["news"],
 *   signal: controller.signal,
 *   onDeliver: (info) => seen.push(info),
 * });
 * const body = response.text();
 * await hub.publish("news", { data: "hi" });
 * for (let i = 0; i < 2_000 && seen.length === 0; i++) {
 *   await new Promise((resolve) => setTimeout(resolve, 5));
 * }
 * controller.abort();
 * await body;
 * assert.equal(seen[0].topic, "news");
 * assert.equal(seen[0].replayed, false);
 * assert.ok(Math.abs(Date.now() - seen[0].publishedAtMs) < 60_000);
 * ```
 */
export interface DeliveryInfo {
  /** The topic of the event. */
  topic: string;
  /** When the broker stored it (the millisecond part of its position: the broker's clock). */
  publishedAtMs: number;
  /** Whether it came from history (the client resumed from a cursor) rather than live. */
  replayed: boolean;
}

/**
 * Options of `hub.response`: the topics, plus any option of `sseResponse` except `request` (the
 * request is the first argument) and `queuePolicy` (always `"close"`: dropping events would
 * break exact resume; a closed client resumes from its cursor instead).
 */
export interface HubResponseOptions extends Omit<SSEResponseOptions, "request" | "queuePolicy"> {
  /** The topics this response streams. Decided by the server, never taken from the client as is. */
  topics: readonly string[];
  /**
   * Called for each published event once it is handed to the connection: every event of the
   * topics' logs except the hub's own (`herald.*`: history-lost, a stream's end) and the id-only
   * block that opens a fresh subscription. For metering deliveries and their lag. Costs nothing
   * when unset; keep it cheap, it runs once per event per client.
   */
  onDeliver?: (info: DeliveryInfo) => void;
}
