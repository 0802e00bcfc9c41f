// A small SSE server: a clock and a counter, each event with an id, on 127.0.0.1.
// Run: deno run --allow-net --allow-env examples/clock.ts   (or: bun examples/clock.ts)
// Then: curl -N http://127.0.0.1:8000/  — or open it in a browser.
import { SSEEncoderStream, type SSEEvent } from "../mod.ts";

const port = Number(globalThis.process?.env?.PORT ?? 8000);

function clock(startAfter: number): ReadableStream<SSEEvent> {
  let n = startAfter;
  let timer: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<SSEEvent>({
    start(controller) {
      controller.enqueue({ retry: 2000, comment: "herald clock" });
      timer = setInterval(() => {
        n++;
        controller.enqueue({
          event: "tick",
          id: String(n),
          data: { n, time: new Date().toISOString() },
        });
      }, 1000);
    },
    cancel() {
      clearInterval(timer);
    },
  });
}

function handler(request: Request): Response {
  const lastId = Number(request.headers.get("last-event-id") ?? "0");
  const body = clock(Number.isSafeInteger(lastId) && lastId > 0 ? lastId : 0)
    .pipeThrough(new SSEEncoderStream());
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}

const runtime = globalThis as unknown as {
  Deno?: { serve(o: { hostname: string; port: number }, h: typeof handler): unknown };
  Bun?: {
    serve(
      o: { hostname: string; port: number; fetch: typeof handler; idleTimeout: number },
    ): unknown;
  };
};
if (runtime.Deno) runtime.Deno.serve({ hostname: "127.0.0.1", port }, handler);
else if (runtime.Bun) {
  runtime.Bun.serve({ hostname: "127.0.0.1", port, fetch: handler, idleTimeout: 0 });
  console.log(`Listening on http://127.0.0.1:${port}/`);
}
