// A Hono app whose SSE route uses Herald's `sse(c, ...)`: served in-process by the Deno and Bun
// hosts of tests/e2e/hono.test.ts, and bundled into a worker for workerd (hono_worker.ts).
//   GET /events?keepAliveMs=   events numbered from Last-Event-ID + 1, every 20 ms, 50 at most
//   GET /stats                 sseStats() and the close reasons seen
import { Hono } from "hono";
import { sse } from "../../../src/adapters/hono.ts";
import { sseStats } from "../../../server.ts";

type Events = { tick: { n: number } };

/** Builds the app; `closes` collects each stream's close reason. */
export function createApp(closes: string[] = []): Hono {
  const app = new Hono();
  app.get("/events", (c) => {
    c.header("x-served-by", "hono");
    const keepAliveMs = Number(c.req.query("keepAliveMs") ?? 15_000);
    return sse<Events>(c, async (stream) => {
      let n = Number(stream.lastEventId ?? 0) || 0;
      while (!stream.signal.aborted && n < 50) {
        n++;
        await stream.send({ event: "tick", id: String(n), data: { n } }).catch(() => {});
        // Race the pause with `closed`: on Workers the timer of a finished request never fires.
        await Promise.race([stream.closed, new Promise((r) => setTimeout(r, 20))]);
      }
    }, { keepAliveMs, onClose: (reason) => closes.push(reason) });
  });
  app.get("/stats", (c) => c.json({ ...sseStats(), closes }));
  return app;
}
