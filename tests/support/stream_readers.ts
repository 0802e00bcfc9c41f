// Readers of a hub stream as users run them: Herald's `connect()` and the `eventsource` npm
// package, each from the stream's starting cursor to its `herald.end`, then one more reconnect
// that the server must answer 204 (the reader stops by itself, with no custom code). Every HTTP
// attempt's status is recorded through the clients' own `fetch` option.
import { EventSource } from "eventsource";
import { connect } from "../../src/client/connect.ts";
import type { Random } from "./random.ts";

/** The data of a `herald.end` event. */
export interface StreamEnd {
  status: "done" | "error" | "cancelled" | "lost";
  reason?: string;
  message?: string;
}

/** What one reader got. */
export interface ReaderResult {
  /** The text of every `token` event, in the order received. */
  tokens: string[];
  /** The `herald.end` data, if one arrived. */
  end?: StreamEnd;
  /** When the `herald.end` arrived (`Date.now()`). */
  endMs?: number;
  /** Events of any kind received after `herald.end` (there must be none). */
  afterEnd: { event: string; data: string }[];
  /** Events that were neither tokens nor the end, e.g. `herald.history-lost`. */
  other: { event: string; data: string }[];
  /** The status of every HTTP attempt, in order (the last one is 204 when the stream ended). */
  statuses: number[];
  /** Connections the reader closed on purpose (`dropAfterEvents`). */
  drops: number;
  /** Why the reader stopped: "no-content" (the 204), "timeout", or a client error code. */
  stoppedBy: string;
}

/** Options of the readers. */
export interface ReaderOptions {
  /** The stream's starting cursor (from `startStream`); a reader sends it as `Last-Event-ID`. */
  cursor: string;
  /** Give up after this long (the result says "timeout"). */
  timeoutMs: number;
  /** Aborting it stops the reader (the result says "timeout"). */
  signal?: AbortSignal;
  /** Called with every token as it arrives (tests that act mid-answer). */
  onToken?: (text: string, result: ReaderResult) => void;
}

function newResult(): ReaderResult {
  return { tokens: [], afterEnd: [], other: [], statuses: [], drops: 0, stoppedBy: "" };
}

function take(result: ReaderResult, event: string, data: string): void {
  if (result.end) {
    result.afterEnd.push({ event, data });
    return;
  }
  if (event === "token") result.tokens.push((JSON.parse(data) as { text: string }).text);
  else if (event === "herald.end") {
    result.end = JSON.parse(data) as StreamEnd;
    result.endMs = Date.now();
  } else result.other.push({ event, data });
}

/**
 * Reads with Herald's `connect()`: reconnects by itself after a cut (with `Last-Event-ID`), stops
 * on the 204. With `dropAfterEvents`, also closes the connection on purpose after a random number
 * of events (up to `maxDrops` times) and opens a new one from the last event ID, as a reload does.
 */
export async function readWithConnect(
  url: string,
  options: ReaderOptions & { dropAfterEvents?: { random: Random; max: number; maxDrops: number } },
): Promise<ReaderResult> {
  const result = newResult();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.timeoutMs);
  const outer = options.signal;
  const onOuterAbort = () => stop.abort();
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  const recordingFetch = async (input: string, init: RequestInit) => {
    const response = await fetch(input, init);
    result.statuses.push(response.status);
    return response;
  };
  let lastEventId = options.cursor;
  const drop = options.dropAfterEvents;
  try {
    for (;;) {
      const connection = connect(url, {
        lastEventId,
        fetch: recordingFetch,
        signal: stop.signal,
        retry: { initialMs: 50, maxMs: 500 },
      });
      let budget = drop && result.drops < drop.maxDrops ? 1 + drop.random.int(drop.max) : Infinity;
      let dropped = false;
      try {
        for await (const message of connection) {
          take(result, message.event, message.data);
          if (message.event === "token") options.onToken?.(result.tokens.at(-1)!, result);
          if (--budget <= 0 && !result.end) {
            dropped = true;
            break; // closes the connection
          }
        }
        if (!dropped) {
          result.stoppedBy = stop.signal.aborted ? "timeout" : "no-content";
          return result;
        }
      } catch (error) {
        result.stoppedBy = stop.signal.aborted
          ? "timeout"
          : (error as { code?: string }).code ?? String(error);
        return result;
      }
      result.drops++;
      lastEventId = connection.lastEventId;
    }
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

/**
 * Reads with the `eventsource` npm package (a WHATWG EventSource): the starting cursor goes in the
 * `lastEventId` query parameter (an EventSource can't set the header on its first request), its
 * own reconnects send `Last-Event-ID`, and it stops for good on the 204.
 */
export function readWithEventSource(url: string, options: ReaderOptions): Promise<ReaderResult> {
  const result = newResult();
  const withCursor = new URL(url);
  withCursor.searchParams.set("lastEventId", options.cursor);
  return new Promise((resolve) => {
    const source = new EventSource(withCursor.toString(), {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        result.statuses.push(response.status);
        return response;
      },
    });
    const finish = (stoppedBy: string) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      source.close();
      if (!result.stoppedBy) result.stoppedBy = stoppedBy;
      resolve(result);
    };
    const onAbort = () => finish("timeout");
    const timer = setTimeout(onAbort, options.timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const record = (event: MessageEvent) => {
      take(result, event.type, event.data);
      if (event.type === "token") options.onToken?.(result.tokens.at(-1)!, result);
    };
    source.addEventListener("token", record);
    source.addEventListener("herald.end", record);
    source.addEventListener("message", record);
    source.addEventListener("herald.history-lost", record);
    source.onerror = (event) => {
      // CLOSED after an error: the connection failed for good (the 204, or a non-200).
      if (source.readyState === EventSource.CLOSED) {
        const code = (event as { code?: number }).code;
        finish(code === 204 ? "no-content" : `eventsource closed (${code ?? event.message})`);
      }
    };
  });
}

/** The readers by name, so a test can run the same property through both. */
export const READERS = {
  connect: readWithConnect,
  eventsource: readWithEventSource,
} as const;
