// The HTTP face of a hub that streams model answers, for the stream e2e tests: served in-process
// (tests/e2e/streams_memory.test.ts), by a Deno or Bun process (stream_server.ts) and by workerd
// (stream_worker.ts).
//   POST /start?topic=a&tokens=200&paceMs=5&coalesceMs=20&leaseMs=&idleCancelMs=&ttlMs=
//               &dropAfter=&errorAfter=            startStream; answers { started, cursor }
//   GET  /events?topic=a                           hub.response (Last-Event-ID or ?lastEventId=)
//   POST /cancel?topic=a&reason=stop               cancelStream
//   GET  /producers                                what this isolate's producers did
// The producer asks the model at `${modelUrl}/v1/chat/completions?tag=<topic>&…` with the stream's
// signal and relays its answer with relayModelStream.
import type { Hub } from "../../../src/hub/hub.ts";
import { relayModelStream } from "../../../src/hub/relay_model_stream.ts";

/** What one producer of this isolate did, for the tests' assertions. */
export interface ProducerRecord {
  topic: string;
  startedMs: number;
  /** `out.write` calls, and those that threw. */
  writes: number;
  writeErrors: string[];
  /** Whether `out.signal` aborted, when, and its reason as text. */
  aborted: boolean;
  abortedMs?: number;
  abortReason?: string;
  /** "running", "returned" or "threw". */
  outcome: "running" | "returned" | "threw";
  error?: string;
  endedMs?: number;
}

/** Options of {@link streamApp}. */
export interface StreamAppOptions {
  hub: Hub;
  /** The fake model server's base URL. */
  modelUrl: string;
  /** `waitUntil` of the platform (Workers), passed to startStream. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Where the hub's logger writes; default console. */
  logger?: { error(message: string, error?: unknown): void };
  /** SSE options of hub.response. */
  keepAliveMs?: number;
  retryMs?: number;
}

const numberParam = (url: URL, name: string): number | undefined => {
  const text = url.searchParams.get(name);
  return text === null || text === "" ? undefined : Number(text);
};

/** The request handler; `producers` lists what this isolate's producers did. */
export function streamApp(options: StreamAppOptions): {
  handle(request: Request, waitUntil?: (promise: Promise<unknown>) => void): Promise<Response>;
  producers: ProducerRecord[];
} {
  const { hub } = options;
  const producers: ProducerRecord[] = [];

  async function start(url: URL, waitUntil?: (p: Promise<unknown>) => void): Promise<Response> {
    const topic = url.searchParams.get("topic") ?? "";
    const model = new URL(`${options.modelUrl}/v1/chat/completions`);
    model.searchParams.set("tag", topic);
    for (const name of ["tokens", "paceMs", "dropAfter", "errorAfter", "format"]) {
      const value = url.searchParams.get(name);
      if (value !== null) model.searchParams.set(name, value);
    }
    const streamOptions: Record<string, unknown> = {
      logger: options.logger,
      waitUntil: waitUntil ?? options.waitUntil,
    };
    for (const name of ["coalesceMs", "maxBatchBytes", "leaseMs", "idleCancelMs", "ttlMs"]) {
      const value = numberParam(url, name);
      if (value !== undefined) streamOptions[name] = value;
    }
    const result = await hub.startStream<{ token: { text: string } }>(topic, async (out) => {
      const record: ProducerRecord = {
        topic,
        startedMs: Date.now(),
        writes: 0,
        writeErrors: [],
        aborted: false,
        outcome: "running",
      };
      producers.push(record);
      out.signal.addEventListener("abort", () => {
        record.aborted = true;
        record.abortedMs = Date.now();
        record.abortReason = String(out.signal.reason?.message ?? out.signal.reason);
      }, { once: true });
      try {
        const upstream = await fetch(model, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "fake", stream: true, messages: [{ role: "user" }] }),
          signal: out.signal,
        });
        await relayModelStream(upstream, {
          signal: out.signal,
          write(event) {
            record.writes++;
            const refused = (error: unknown) => {
              record.writeErrors.push(String((error as Error)?.message ?? error));
              throw error;
            };
            try {
              const written: unknown = out.write(
                event as { event: "token"; data: { text: string } },
              );
              return written instanceof Promise ? written.catch(refused) : written;
            } catch (error) {
              refused(error);
            }
          },
        });
        record.outcome = "returned";
      } catch (error) {
        record.outcome = "threw";
        record.error = String((error as Error)?.message ?? error);
        throw error;
      } finally {
        record.endedMs = Date.now();
      }
    }, streamOptions);
    return Response.json(result);
  }

  return {
    producers,
    async handle(request, waitUntil) {
      const url = new URL(request.url);
      if (url.pathname === "/events") {
        return await hub.response(request, {
          topics: url.searchParams.getAll("topic"),
          keepAliveMs: options.keepAliveMs ?? 1000,
          retryMs: options.retryMs ?? 100,
          logger: options.logger,
        });
      }
      if (url.pathname === "/start" && request.method === "POST") {
        return await start(url, waitUntil);
      }
      if (url.pathname === "/cancel" && request.method === "POST") {
        await hub.cancelStream(
          url.searchParams.get("topic") ?? "",
          url.searchParams.get("reason") ?? undefined,
        );
        return Response.json({ ok: true });
      }
      if (url.pathname === "/producers") return Response.json(producers);
      return new Response("not found\n", { status: 404 });
    },
  };
}
