// One fan-out server for bench/fanout.bench.ts, in its own process:
//   `<runtime> bench/fanout/server.ts <impl>`
//   impl: herald  (createHub + MemoryBroker, hub.response: ids, cursors, resume)
//         hono    (Hono's streamSSE; a Set of stream writers, writeSSE to each)
//         response (Herald's sseResponse alone, no hub: a Set of writers, the same event object
//                  sent to each; shows what the response builder costs apart from the hub)
//         minimal (a Set of ReadableStream controllers; the event encoded once, the same bytes
//                  enqueued to every one: the floor)
//         minimal-pull (the floor's broadcast over a body shaped as sseResponse's: highWaterMark
//                  0, a pull() that returns a promise resolved when the next bytes are enqueued;
//                  shows what that body shape costs on its own)
//   GET  /events       the SSE stream
//   POST /broadcast    one 200-byte event to every connection; data carries the send time (ms)
//   GET  /stats        { rssBytes, cpuUs, connections }
//   GET  /gc           a full collection (for RSS readings)
// Prints "PORT <n>" when listening.
import process from "node:process";
import { Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { createHub, MemoryBroker, sseResponse, type SSEWriter } from "../../mod.ts";
import { serveOnLoopback } from "../support/loopback_server.ts";

const impl = process.argv[2] ?? (globalThis as { Deno?: { args: string[] } }).Deno?.args[0];
const EVENT_BYTES = 200;
let connections = 0;

/** The event's data: the send time, padded so the whole `data:` payload is 200 bytes. */
function payload(): string {
  const head = `{"ts":${performance.timeOrigin + performance.now()},"pad":"`;
  return head + "x".repeat(EVENT_BYTES - head.length - 2) + '"}';
}

// Herald: the hub over the in-memory broker.
const hub = createHub({ broker: new MemoryBroker({ maxEventsPerTopic: 1000 }) });
const countClose = () => {
  connections--;
};

// Herald's response builder alone: every open writer.
const writers = new Set<SSEWriter>();
function responseOnly(request: Request): Response {
  return sseResponse((stream) => {
    writers.add(stream);
    connections++;
    stream.closed.then(() => {
      writers.delete(stream);
      connections--;
    });
  }, { request });
}

// Hono: every open streamSSE writer.
const honoStreams = new Set<SSEStreamingApi>();
const hono = new Hono().get("/events", (c) =>
  streamSSE(c, async (stream) => {
    honoStreams.add(stream);
    connections++;
    await new Promise<void>((resolve) => stream.onAbort(resolve));
    honoStreams.delete(stream);
    connections--;
  }));

// Minimal: every open controller; one encoding per broadcast.
const controllers = new Set<ReadableStreamDefaultController<Uint8Array>>();
const encoder = new TextEncoder();
function minimal(): Response {
  let mine: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      mine = controller;
      controllers.add(controller);
      connections++;
      controller.enqueue(encoder.encode(":\n\n"));
    },
    cancel() {
      controllers.delete(mine);
      connections--;
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

// Minimal, pull-shaped: the same bytes, through a body that waits in pull() as sseResponse's does.
const pullers = new Set<Puller>();
class Puller implements UnderlyingDefaultSource<Uint8Array> {
  controller!: ReadableStreamDefaultController<Uint8Array>;
  wanted: (() => void) | undefined;
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
    pullers.add(this);
    connections++;
    controller.enqueue(encoder.encode(":\n\n"));
  }
  pull(): Promise<void> {
    return new Promise((resolve) => (this.wanted = resolve));
  }
  cancel(): void {
    pullers.delete(this);
    connections--;
  }
  write(bytes: Uint8Array): void {
    this.controller.enqueue(bytes);
    const wanted = this.wanted;
    this.wanted = undefined;
    wanted?.();
  }
}
function minimalPull(): Response {
  return new Response(new ReadableStream(new Puller(), { highWaterMark: 0 }), {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

async function broadcast(): Promise<void> {
  const data = payload();
  if (impl === "herald") {
    await hub.publish("all", { event: "tick", data });
  } else if (impl === "response") {
    const event = { event: "tick", data };
    for (const stream of writers) void stream.send(event);
  } else if (impl === "hono") {
    for (const stream of honoStreams) void stream.writeSSE({ event: "tick", data });
  } else if (impl === "minimal-pull") {
    const bytes = encoder.encode(`event: tick\ndata: ${data}\n\n`);
    for (const puller of pullers) puller.write(bytes);
  } else {
    const bytes = encoder.encode(`event: tick\ndata: ${data}\n\n`);
    for (const controller of controllers) controller.enqueue(bytes);
  }
}

async function handler(request: Request): Promise<Response> {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/events":
      if (impl === "herald") {
        connections++;
        // Counted down by the response's own close (as the other servers do), not by reading
        // request.signal: on Bun that builds a signal per request, on Deno it warns. The callback
        // is made once, not in this handler: a closure made here would hold the handler's scope
        // (the request, its headers, the URL) for as long as the stream is open, ~0.9 KiB of RSS
        // per connection on Bun that is this file's, not the hub's.
        return await hub.response(request, { topics: ["all"], onClose: countClose });
      }
      if (impl === "hono") return await hono.fetch(request);
      if (impl === "response") return responseOnly(request);
      if (impl === "minimal-pull") return minimalPull();
      return minimal();
    case "/broadcast":
      await broadcast();
      return new Response("ok");
    case "/stats": {
      const cpu = process.cpuUsage();
      return Response.json({
        rssBytes: process.memoryUsage.rss(),
        cpuUs: cpu.user + cpu.system,
        connections,
      });
    }
    case "/gc": {
      const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
      if (g.Bun) g.Bun.gc(true);
      else g.gc?.();
      return new Response("collected");
    }
  }
  return new Response("not found", { status: 404 });
}

// Exit through the runtime's own exit path, so a profiler it runs (--cpu-prof) writes its file.
process.on("SIGTERM", () => process.exit(0));
serveOnLoopback(handler);
