// A hub server process for tests/e2e/hub_cross_runtime.test.ts, run by Deno or by Bun:
//   env HUB_UPSTASH_URL, HUB_UPSTASH_TOKEN, HUB_PREFIX, HUB_PING_MS
//   GET  /events?topic=a&topic=b   hub.response (Last-Event-ID or ?lastEventId= resumes)
//   POST /publish?topic=a          body: a JSON array of { event?, data }; answers the ids
//   GET  /stats                    the broker's feed stats and open feeds
// Prints `listening <port>` once it serves on 127.0.0.1.
import process from "node:process";
import { Redis } from "@upstash/redis";
import { createHub } from "../../../mod.ts";
import { UpstashBroker } from "../../../src/adapters/upstash.ts";
import { serve } from "../../support/serve.ts";

const broker = new UpstashBroker({
  redis: new Redis({
    url: process.env.HUB_UPSTASH_URL!,
    token: process.env.HUB_UPSTASH_TOKEN!,
    enableTelemetry: false,
  }),
  prefix: process.env.HUB_PREFIX ?? "herald",
  pingIntervalMs: Number(process.env.HUB_PING_MS ?? 200),
  pingTimeoutMs: 1_000,
  reconnectDelayMs: 20,
});
const hub = createHub({ broker });

const server = await serve(async (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/events") {
    return await hub.response(request, {
      topics: url.searchParams.getAll("topic"),
      keepAliveMs: 1000,
    });
  }
  if (url.pathname === "/publish" && request.method === "POST") {
    const ids = await hub.publish(url.searchParams.get("topic")!, await request.json());
    return Response.json(ids);
  }
  if (url.pathname === "/stats") {
    return Response.json({ ...broker.feedStats, openFeeds: broker.openFeeds });
  }
  return new Response("not found", { status: 404 });
}, { bunIdleTimeoutSeconds: 0 });
console.log(`listening ${server.port}`);

const stop = async () => {
  broker.close();
  await server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
