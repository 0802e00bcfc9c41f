// A stream server process for tests/e2e/streams_upstash.test.ts, run by Deno or by Bun: a hub on
// the UpstashBroker (the REST test server) serving workers/stream_app.ts on 127.0.0.1.
//   env STREAM_UPSTASH_URL, STREAM_UPSTASH_TOKEN, STREAM_PREFIX, STREAM_MODEL_URL,
//       STREAM_PING_MS (the feed's liveness ping), STREAM_PRESENCE_MS (the hub's presence interval)
// Prints `listening <port>` once it serves; SIGTERM stops it.
import process from "node:process";
import { Redis } from "@upstash/redis";
import { createHub } from "../../../mod.ts";
import { UpstashBroker } from "../../../src/adapters/upstash.ts";
import { serve } from "../../support/serve.ts";
import { streamApp } from "./stream_app.ts";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`stream_server needs ${name}`);
  return value;
};

const broker = new UpstashBroker({
  redis: new Redis({
    url: env("STREAM_UPSTASH_URL"),
    token: env("STREAM_UPSTASH_TOKEN"),
    enableTelemetry: false,
  }),
  prefix: env("STREAM_PREFIX", "s"),
  pingIntervalMs: Number(env("STREAM_PING_MS", "500")),
  pingTimeoutMs: 2_000,
  reconnectDelayMs: 20,
});
const hub = createHub({
  broker,
  presenceIntervalMs: Number(env("STREAM_PRESENCE_MS", "500")),
});
const app = streamApp({
  hub,
  modelUrl: env("STREAM_MODEL_URL"),
  logger: {
    error(message, error) {
      // One line per log: the test prints the process output when it fails.
      console.error(`[hub] ${message} ${(error as Error)?.message ?? error ?? ""}`);
    },
  },
});

const server = await serve((request) => app.handle(request), { bunIdleTimeoutSeconds: 0 });
console.log(`listening ${server.port}`);

const stop = async () => {
  broker.close();
  await server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
