// Resumable streams on Workers, for tests/e2e/streams_workerd.test.ts: workers/stream_app.ts behind
// `/<kind>/…`, kind = memory (one isolate's MemoryBroker) or upstash (the UpstashBroker on the REST
// test server). `POST /<kind>/start` answers at once; the producer goes on under `ctx.waitUntil`.
//   env UPSTASH_URL, UPSTASH_TOKEN, PREFIX, MODEL_URL
import { Redis } from "@upstash/redis/cloudflare";
import { createHub, MemoryBroker } from "../../../mod.ts";
import { UpstashBroker } from "../../../src/adapters/upstash.ts";
import { streamApp } from "./stream_app.ts";

interface Env {
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
  PREFIX: string;
  MODEL_URL: string;
}

interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

const apps = new Map<string, ReturnType<typeof streamApp>>();

function appFor(kind: string, env: Env): ReturnType<typeof streamApp> {
  let app = apps.get(kind);
  if (!app) {
    const broker = kind === "memory" ? new MemoryBroker() : new UpstashBroker({
      redis: new Redis({ url: env.UPSTASH_URL, token: env.UPSTASH_TOKEN, enableTelemetry: false }),
      prefix: env.PREFIX,
      pingIntervalMs: 500,
      pingTimeoutMs: 2_000,
      reconnectDelayMs: 20,
    });
    const hub = createHub({ broker, presenceIntervalMs: 500 });
    app = streamApp({ hub, modelUrl: env.MODEL_URL, keepAliveMs: 500 });
    apps.set(kind, app);
  }
  return app;
}

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const url = new URL(request.url);
    const [, kind, ...rest] = url.pathname.split("/");
    if (kind !== "memory" && kind !== "upstash") return new Response("not found", { status: 404 });
    url.pathname = "/" + rest.join("/");
    return await appFor(kind, env).handle(
      new Request(url, request),
      (promise) => ctx.waitUntil(promise),
    );
  },
};
