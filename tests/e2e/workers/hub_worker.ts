// A hub on Workers, for tests/e2e/hub_workerd.test.ts. One hub per isolate and broker kind; the
// Upstash broker opens its live feed per request there (I/O can't cross requests on Workers).
//   env UPSTASH_URL, UPSTASH_TOKEN, PREFIX
//   GET  /<kind>/events?topic=a     hub.response; kind = memory | upstash
//   POST /<kind>/publish?topic=a    body: a JSON array of { event?, data }; answers the ids
//   POST /<kind>/stream?topic=a&idleCancelMs=600&ticks=100
//                                   hub.startStream under ctx.waitUntil: a "tick" event every
//                                   50 ms until `ticks` or a cancel; answers { started, cursor }
//   GET  /<kind>/stream-state?topic=a  the broker's stream state of the topic ({ end } or null),
//                                   read without becoming one of its readers
import { Redis } from "@upstash/redis/cloudflare";
import { createHub, type Hub, MemoryBroker } from "../../../mod.ts";
import { UpstashBroker } from "../../../src/adapters/upstash.ts";

interface Env {
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
  PREFIX: string;
}

interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

const hubs = new Map<string, Hub>();

function hubFor(kind: string, env: Env): Hub {
  let hub = hubs.get(kind);
  if (!hub) {
    const broker = kind === "memory" ? new MemoryBroker() : new UpstashBroker({
      redis: new Redis({ url: env.UPSTASH_URL, token: env.UPSTASH_TOKEN, enableTelemetry: false }),
      prefix: env.PREFIX,
      pingIntervalMs: 200,
      pingTimeoutMs: 1_000,
      reconnectDelayMs: 20,
    });
    // Frequent presence reports, so idle cancel is quick to see.
    hub = createHub({ broker, presenceIntervalMs: 100 });
    hubs.set(kind, hub);
  }
  return hub;
}

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, action] = url.pathname.split("/");
    if (kind !== "memory" && kind !== "upstash") return new Response("not found", { status: 404 });
    const hub = hubFor(kind, env);
    if (action === "events") {
      return await hub.response(request, {
        topics: url.searchParams.getAll("topic"),
        keepAliveMs: 500,
      });
    }
    if (action === "publish" && request.method === "POST") {
      return Response.json(await hub.publish(url.searchParams.get("topic")!, await request.json()));
    }
    if (action === "stream-state") {
      const read = await hub.broker.read(
        [{ topic: url.searchParams.get("topic")!, after: "0-0" }],
        0,
      );
      return Response.json(read.topics[0].stream ?? null);
    }
    if (action === "stream" && request.method === "POST") {
      const ticks = Number(url.searchParams.get("ticks") ?? 100);
      const idle = url.searchParams.get("idleCancelMs");
      const started = await hub.startStream(url.searchParams.get("topic")!, async (out) => {
        for (let n = 0; n < ticks && !out.signal.aborted; n++) {
          await out.write({ event: "tick", data: n });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }, {
        waitUntil: (promise) => ctx.waitUntil(promise),
        idleCancelMs: idle ? Number(idle) : undefined,
        coalesceMs: 10,
      });
      return Response.json(started);
    }
    return new Response("not found", { status: 404 });
  },
};
