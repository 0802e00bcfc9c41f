// Herald's client running inside workerd (tests/e2e/workers/client_worker.ts), against a
// loopback server of the test host. workerd is started once, under the Deno host only (the Bun
// host would test the same worker again).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { bundleForWorkerd, startWorkerd } from "../support/workerd_process.mjs";
import { runtime } from "../support/runtime.ts";
import { type ScriptedServer, scriptedServer, sseStream, sseText } from "./client_servers.ts";

const here = new URL(".", import.meta.url).pathname;

/** Events 1..total, `k` per connection, resuming after Last-Event-ID; 204 once all are sent. */
function dropEveryK(request: Request, total: number, k: number, named: boolean): Response {
  const last = Number(request.headers.get("last-event-id") ?? "0");
  if (last >= total) return new Response(null, { status: 204 });
  let text = "";
  for (let n = last + 1; n <= Math.min(total, last + k); n++) {
    text += `id: ${n}\n` + (named && n % 2 === 0 ? "event: tick\n" : "") + `data: e${n}\n\n`;
  }
  return sseText(text);
}

describe("client inside workerd, against a loopback server", { skip: runtime !== "deno" }, () => {
  let server: ScriptedServer;
  let worker: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  const counters = new Map<string, number>();
  const silentStreams: ReturnType<typeof sseStream>[] = [];

  before(async () => {
    server = await scriptedServer((request) => {
      const url = new URL(request.url);
      const n = (counters.get(url.pathname) ?? 0) + 1;
      counters.set(url.pathname, n);
      switch (url.pathname) {
        case "/drops":
          return dropEveryK(request, 10, 3, url.searchParams.has("named"));
        case "/flaky":
          if (n <= 3) return new Response("try later", { status: 503 });
          if (n === 4) return sseText("id: 1\ndata: up\n\n");
          return new Response(null, { status: 204 });
        case "/missing":
          return new Response("no such stream", { status: 404 });
        case "/silent": {
          if (n > 2) return new Response(null, { status: 204 });
          if (n === 2) return sseText("id: 2\ndata: after idle\n\n");
          const made = sseStream();
          made.stream.write({ id: "1", data: "then silence" });
          silentStreams.push(made);
          return made.response;
        }
        case "/burst":
          return sseText([...Array(10)].map((_, i) => `data: ${i}\n\n`).join(""));
      }
      return new Response("not found", { status: 404 });
    });
    const module = bundleForWorkerd(
      join(here, "workers", "client_worker.ts"),
      join(here, "..", ".out", "e2e-client", "client_worker.js"),
    );
    worker = await startWorkerd({
      module,
      bindings: { TARGET: server.url },
      allowLocalFetch: true,
    });
  });

  after(async () => {
    for (const made of silentStreams) made.stream.end();
    await worker?.stop();
    await server?.close();
  });

  async function run(scenario: string) {
    const response = await fetch(`${worker!.url}/${scenario}`);
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body) + "\n" + worker!.output());
    assert.equal(body.runtime, "Cloudflare-Workers");
    return body.result;
  }

  function requestsTo(path: string) {
    return server.requests.filter((r) => r.path.startsWith(path));
  }

  it("reconnects with Last-Event-ID and delivers every event once, in order", async () => {
    const before = requestsTo("/drops").length;
    const result = await run("drops");
    assert.deepEqual(
      result.messages.map((m: { data: string }) => m.data),
      [...Array(10)].map((_, i) => `e${i + 1}`),
    );
    assert.deepEqual(result.errors, [
      "stream-ended",
      "stream-ended",
      "stream-ended",
      "stream-ended",
    ]);
    assert.equal(result.thrown, undefined);
    assert.equal(result.readyState, 2);
    assert.deepEqual(
      requestsTo("/drops").slice(before).map((r) => r.headers["last-event-id"] ?? ""),
      ["", "3", "6", "9", "10"],
    );
  });

  it("EventSource dispatches named events and messages with lastEventId", async () => {
    const result = await run("eventSource");
    assert.deepEqual(
      result.seen,
      [...Array(10)].map((_, i) =>
        (i + 1) % 2 === 0 ? ["tick", `e${i + 1}`, `${i + 1}`] : ["message", `e${i + 1}`, `${i + 1}`]
      ),
    );
  });

  it("resends the POST body and calls the headers function on every attempt", async () => {
    const before = requestsTo("/drops").length;
    const result = await run("post");
    assert.equal(result.messages.length, 10);
    const requests = requestsTo("/drops").slice(before);
    assert.equal(requests.length, 5);
    assert.deepEqual(requests.map((r) => [r.method, r.body]), [
      ...Array(5).fill(["POST", "the same body every time"]),
    ]);
    assert.deepEqual(
      requests.map((r) => r.headers.authorization),
      ["Bearer t1", "Bearer t2", "Bearer t3", "Bearer t4", "Bearer t5"],
    );
  });

  it("retries 503s with growing delays, then opens", async () => {
    const result = await run("backoff");
    assert.deepEqual(result.messages.map((m: { data: string }) => m.data), ["up"]);
    assert.deepEqual(result.delaysMs, [100, 200, 400, 100]);
    assert.deepEqual(result.errors, ["http-status", "http-status", "http-status", "stream-ended"]);
  });

  it("fails on 404 with a typed error carrying the status and the body's start", async () => {
    const result = await run("notFound");
    assert.deepEqual(result.thrown, {
      code: "http-status",
      status: 404,
      bodyStart: "no such stream",
    });
    assert.equal(result.readyState, 2);
  });

  it("the idle watchdog reconnects a silent connection", async () => {
    const result = await run("idle");
    assert.deepEqual(result.messages.map((m: { data: string }) => m.data), [
      "then silence",
      "after idle",
    ]);
    assert.deepEqual(result.errors, ["idle-timeout", "stream-ended"]);
    assert.equal(requestsTo("/silent")[1].headers["last-event-id"], "1");
  });

  it("close() in a listener dispatches nothing more", async () => {
    const result = await run("closeMidStream");
    assert.deepEqual(result, { seen: ["0", "1", "2"], readyState: 2 });
  });

  it("withCredentials works where fetch has no credentials mode", async () => {
    const result = await run("withCredentials");
    assert.deepEqual(result.seen, ["e1", "e2", "e3"]);
  });
});
