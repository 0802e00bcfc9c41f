// A worker that answers with sseResponse, for the workerd part of tests/e2e/response.test.ts.
//   GET /stream?keepAliveMs=&maxDurationMs=&retryMs=&intervalMs=&total=
//       events numbered from the client's Last-Event-ID + 1, one every intervalMs (0: none);
//       the close reason of every stream is recorded with the time it fired.
//   GET /invalid   an event name with a newline from application code, between two good events
//   GET /stats     sseStats() of this isolate and the recorded closes
import { SSEEncodeError, sseResponse } from "../../../mod.ts";
import { sseStats } from "../../../server.ts";

const closes: { reason: string; at: number; path: string }[] = [];
const refusals: string[] = [];

function numbered(request: Request, url: URL): Response {
  const param = (name: string) => {
    const value = url.searchParams.get(name);
    return value === null ? undefined : Number(value);
  };
  const intervalMs = param("intervalMs") ?? 0;
  const total = param("total") ?? Infinity;
  return sseResponse(async (stream) => {
    let n = Number(stream.lastEventId ?? "0") || 0;
    while (!stream.signal.aborted && n < total) {
      if (intervalMs === 0) {
        // Quiet: only keep-alives are written, which is how workerd notices a client that left.
        await stream.closed;
        return;
      }
      n++;
      await stream.send({ id: String(n), data: `event ${n}` }).catch(() => {});
      // Race the pause with `closed`: on Workers a timer of a request that is over never fires,
      // so a producer that only slept would stay suspended forever (and count as live).
      await Promise.race([stream.closed, new Promise((r) => setTimeout(r, intervalMs))]);
    }
  }, {
    request,
    keepAliveMs: param("keepAliveMs"),
    maxDurationMs: param("maxDurationMs"),
    retryMs: param("retryMs"),
    onClose: (reason) => closes.push({ reason, at: Date.now(), path: url.pathname }),
  });
}

function invalid(request: Request): Response {
  return sseResponse(async (stream) => {
    await stream.send({ id: "1", data: "before" });
    try {
      await stream.send({ event: "bad\nname", data: "x" });
    } catch (error) {
      refusals.push(error instanceof SSEEncodeError ? error.code : String(error));
    }
    await stream.send({ id: "2", event: "end", data: "after" });
  }, { request, logger: { error() {} } });
}

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/stream":
        return numbered(request, url);
      case "/invalid":
        return invalid(request);
      case "/stats":
        return Response.json({ ...sseStats(), closes, refusals, now: Date.now() });
    }
    return new Response("not found", { status: 404 });
  },
};
