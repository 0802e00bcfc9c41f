import type { SSEEvent } from "../protocol/types.ts";
import type { SSECloseError, SSECloseReason } from "./close_reason.ts";
import type { ResponseConnection } from "./connection.ts";
import { SSEResponseError } from "./response_errors.ts";
import { counters } from "./stats.ts";
import type { SSESource, SSEWriter } from "./writer.ts";

/**
 * Connects a source to a connection: runs a function source with a writer, or pumps a stream or
 * iterable into the queue one event at a time (each read waits until the previous event was
 * accepted, so a full queue pauses the upstream). When the connection closes, the upstream is
 * cancelled: `reader.cancel(reason)` or `iterator.return()`, so an LLM call or a hub subscription
 * stops when nobody listens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ResponseConnection } from "./connection.ts";
 * import { resolveOptions } from "./options.ts";
 * import { startSource } from "./source.ts";
 * const connection = new ResponseConnection({}, resolveOptions({}, 15_000));
 * startSource(connection, [{ data: "a" }, { data: "b" }], undefined);
 * assert.equal(await new Response(connection.body).text(), ":\n\ndata: a\n\ndata: b\n\n");
 * ```
 */
export function startSource<Event extends SSEEvent>(
  connection: ResponseConnection,
  source: SSESource<Event>,
  request: Request | undefined,
): void {
  if (typeof source === "function") return runFunction(connection, source, request);
  if (source instanceof ReadableStream) return pumpStream(connection, source);
  const asyncIterable = source as AsyncIterable<Event>;
  if (typeof asyncIterable[Symbol.asyncIterator] === "function") {
    return pumpIterator(connection, asyncIterable[Symbol.asyncIterator]());
  }
  const iterable = source as Iterable<Event>;
  if (typeof iterable[Symbol.iterator] === "function") {
    return pumpIterator(connection, iterable[Symbol.iterator]());
  }
  // checkSource() refused anything else before the connection was made.
  throw new SSEResponseError("invalid-source", describeSource(source));
}

/** The writer a function source gets: methods on a prototype, the signal made only if asked. */
class ConnectionWriter<Event extends SSEEvent> implements SSEWriter<Event> {
  #send: ((event: Event) => Promise<void>) | undefined;
  #comment: ((text?: string) => Promise<void>) | undefined;
  #close: (() => void) | undefined;
  #request: Request | undefined;
  constructor(readonly connection: ResponseConnection, request: Request | undefined) {
    this.#request = request;
  }
  // Read on first use: touching a request's headers costs memory on some runtimes (Bun builds
  // the headers object lazily), and most producers never ask.
  get lastEventId(): string | undefined {
    return this.#request?.headers.get("last-event-id") ?? undefined;
  }
  // Functions made on first use and kept, so `const { send } = stream` works like `stream.send`.
  get send(): (event: Event) => Promise<void> {
    return this.#send ??= (event) => this.connection.send(event);
  }
  get comment(): (text?: string) => Promise<void> {
    return this.#comment ??= (text) => this.connection.comment(text);
  }
  get close(): () => void {
    return this.#close ??= () => this.connection.close("producer-done");
  }
  get signal(): AbortSignal {
    return this.connection.signal;
  }
  get closed(): Promise<SSECloseReason> {
    return this.connection.closedPromise;
  }
}

function runFunction<Event extends SSEEvent>(
  connection: ResponseConnection,
  produce: (stream: SSEWriter<Event>) => void | Promise<void>,
  request: Request | undefined,
): void {
  let result: void | Promise<void>;
  try {
    result = produce(new ConnectionWriter<Event>(connection, request));
  } catch (error) {
    return connection.fail(error);
  }
  // A function that returns nothing keeps the stream open until close() or the client leaves.
  if (!result || typeof (result as Promise<void>).then !== "function") return;
  counters.producers++;
  Promise.resolve(result).then(
    () => connection.close("producer-done"),
    (error) => connection.fail(error),
  ).finally(() => counters.producers--);
}

function pumpStream<Event extends SSEEvent>(
  connection: ResponseConnection,
  stream: ReadableStream<Event>,
): void {
  const reader = stream.getReader();
  let readError: unknown;
  connection.source = {
    stop(reason: SSECloseError) {
      reader.cancel(reason).catch((error) => {
        // An errored stream rejects cancel() with the error read() already reported.
        if (error !== readError) {
          connection.logger.error("Herald sseResponse: cancelling the source failed.", error);
        }
      });
    },
  };
  pump(connection, async () => {
    try {
      return await reader.read();
    } catch (error) {
      readError = error;
      throw error;
    }
  });
}

function pumpIterator<Event extends SSEEvent>(
  connection: ResponseConnection,
  iterator: AsyncIterator<Event> | Iterator<Event>,
): void {
  let done = false;
  connection.source = {
    stop() {
      if (done || typeof iterator.return !== "function") return;
      try {
        Promise.resolve(iterator.return()).catch((error) => {
          connection.logger.error(
            "Herald sseResponse: stopping the source iterator failed.",
            error,
          );
        });
      } catch (error) {
        connection.logger.error("Herald sseResponse: stopping the source iterator failed.", error);
      }
    },
  };
  pump(connection, async () => {
    const result = await iterator.next();
    if (result.done) done = true;
    return result;
  });
}

async function pump<Event extends SSEEvent>(
  connection: ResponseConnection,
  next: () => Promise<IteratorResult<Event> | ReadableStreamReadResult<Event>>,
): Promise<void> {
  counters.producers++;
  try {
    while (!connection.closed) {
      const result = await next();
      if (connection.closed) break;
      if (result.done) {
        connection.close("producer-done");
        break;
      }
      try {
        await connection.send(result.value);
      } catch (error) {
        if (connection.closed) break;
        // A refused event: already reported to the logger by send(); the stream goes on.
        void error;
      }
    }
  } catch (error) {
    connection.fail(error);
  } finally {
    counters.producers--;
  }
}

function describeSource(source: unknown): string {
  return "sseResponse: source must be a ReadableStream, an async iterable or iterable of events, " +
    `or a function (stream) => void; got ${source === null ? "null" : typeof source}.`;
}

/**
 * Throws {@link SSEResponseError} (`invalid-source`) for a source `sseResponse` can't read.
 *
 * @example
 * ```ts
 * import { checkSource } from "./source.ts";
 * checkSource([{ data: "fine" }]);
 * ```
 */
export function checkSource(source: unknown): void {
  if (typeof source === "function" || source instanceof ReadableStream) return;
  if (source !== null && typeof source === "object") {
    const candidate = source as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
    if (typeof candidate[Symbol.asyncIterator] === "function") return;
    if (typeof candidate[Symbol.iterator] === "function") return;
  }
  throw new SSEResponseError("invalid-source", describeSource(source));
}
