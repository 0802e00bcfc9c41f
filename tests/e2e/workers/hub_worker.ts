// A hub on Workers, for tests/e2e/hub_workerd.test.ts. One hub per isolate and broker kind; the
// Upstash broker opens its live feed per request there (I/O can't cross requests on Workers).
//   env UPSTASH_URL, UPSTASH_TOKEN, PREFIX
//   GET  /<kind>/events?topic=a     hub.response; kind = memory | upstash
//   POST /<kind>/publish?topic=a    body: a JSON array of { event?, data }; answers the ids
import { Redis } from "@upstash/redis/cloudflare";
import { createHub, type Hub, MemoryBroker } from "../../../mod.ts";
import { UpstashBroker } from "../../../src/adapters/upstash.ts";

interface Env {
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
  PREFIX: string;
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
    hub = createHub({ broker });
    hubs.set(kind, hub);
  }
  return hub;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
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
    return new Response("not found", { status: 404 });
  },
};
