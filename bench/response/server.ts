// One SSE server for bench/response.bench.ts, in its own process so that the client's work is
// not counted: `<runtime> bench/response/server.ts <impl> <workload> <events> <burst>`.
//   impl:     herald (sseResponse) | hono (Hono's streamSSE) | minimal (a hand-written
//             ReadableStream of encoded strings: the floor)
//   workload: single (one event per await) | burst (bursts of <burst> events) | idle (no events)
// Prints "PORT <n>" when listening. GET /gc runs a full garbage collection (for RSS readings).
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { sseResponse } from "../../mod.ts";
import { serveOnLoopback } from "../support/loopback_server.ts";

const [impl, workload, eventsArg, burstArg] = (globalThis as { Deno?: { args: string[] } }).Deno
  ?.args ?? (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const total = Number(eventsArg ?? 100_000);
const burst = Number(burstArg ?? 100);
const TEXT = "the quick brown fox jumps over the lazy dog";

/** The i-th event's fields: the same bytes for every implementation. */
function eventAt(i: number) {
  return { id: String(i), event: "update", data: `{"n":${i},"text":"${TEXT}"}` };
}

function herald(request: Request): Response {
  if (workload === "idle") {
    return sseResponse((stream) => {
      void stream; // quiet: keep-alives only (Herald's defaults)
    }, { request });
  }
  return sseResponse(async (stream) => {
    if (workload === "single") {
      for (let i = 0; i < total && !stream.signal.aborted; i++) await stream.send(eventAt(i));
      return;
    }
    for (let i = 0; i < total && !stream.signal.aborted;) {
      const end = Math.min(total, i + burst);
      for (; i < end - 1; i++) stream.send(eventAt(i));
      await stream.send(eventAt(i++));
    }
  }, { request });
}

const hono = new Hono().get("/", (c) =>
  streamSSE(c, async (stream) => {
    if (workload === "idle") {
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      return;
    }
    if (workload === "single") {
      for (let i = 0; i < total && !stream.aborted; i++) await stream.writeSSE(eventAt(i));
      return;
    }
    for (let i = 0; i < total && !stream.aborted;) {
      const end = Math.min(total, i + burst);
      for (; i < end - 1; i++) stream.writeSSE(eventAt(i));
      await stream.writeSSE(eventAt(i++));
    }
  }));

function encode(e: { id: string; event: string; data: string }): string {
  return `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`;
}

function minimal(): Response {
  const encoder = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(":\n\n"));
    },
    pull(controller) {
      if (workload === "idle") return new Promise(() => {}); // quiet until cancelled
      if (i >= total) return controller.close();
      const end = workload === "single" ? i + 1 : Math.min(total, i + burst);
      for (; i < end; i++) controller.enqueue(encoder.encode(encode(eventAt(i))));
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function handler(request: Request): Response | Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/gc") {
    const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
    if (g.Bun) g.Bun.gc(true);
    else g.gc?.();
    return new Response(g.gc || g.Bun ? "collected" : "no gc exposed");
  }
  if (impl === "herald") return herald(request);
  if (impl === "hono") return hono.fetch(request);
  return minimal();
}

serveOnLoopback(handler);
