// Same stream, same events: Chromium's native EventSource and Herald's EventSource read one
// scripted stream from one loopback server, across a dropped connection and a reconnection,
// and must record identical type/data/lastEventId/origin/readyState sequences and send identical
// Last-Event-ID headers. Runs under the Deno and Bun hosts; skipped where Chromium is missing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EventSource } from "../../mod.ts";
import { hasChromium, launchChromium, type LaunchedChromium } from "../support/browser.ts";
import { canServe } from "../support/runtime.ts";
import { bundleForWorkerd } from "../support/workerd_process.mjs";
import { type ScriptedServer, scriptedServer } from "./client_servers.ts";

/** What both recorders write down for every event: the fields a page can see. */
interface Recorded {
  type: string;
  data?: string;
  lastEventId?: string;
  origin?: string;
  readyState: number;
}

// Connection 1: every tricky corner of the wire format, then the server drops the connection.
const FIRST = [
  "\uFEFF: a comment after the BOM\r\n",
  "retry: 50\r\n",
  "data: plain, CRLF\r\n\r\n",
  "id: 1\nevent: tick\ndata: two\ndata: lines\n\n",
  "id: 2\r\n\r\n", // an id-only block: sets the last event ID, dispatches nothing
  "data: after the id-only block\n\n",
  "id: has\0nul\ndata: the id with NUL is ignored\n\n",
  "data:\n\n", // empty data dispatches ""
  "data\n\n", // a field name alone: data ""
  "event: update\rdata: CR line endings\r\r",
  "data:  a leading space survives, one is eaten\n\n",
  "event:\ndata: an empty event name is message\n\n",
  ": another comment\n",
  "id: é€ ünïcode\ndata: a non-ASCII id\n\n",
  "data: \uFEFFa second BOM is data\n\n",
  "unknown: field\ndata: unknown fields are ignored\n\n",
  "data: this event has no blank line and is discarded at EOF",
];
// Connection 2 (resumed with Last-Event-ID), then connection 3 gets 204: stop.
const SECOND = [
  "id: 3\ndata: resumed\n\n",
  "id:\ndata: the id is reset to empty\n\n",
  "event: done\ndata: bye\n\n",
];
const NAMED_TYPES = ["message", "tick", "update", "done"];
const here = new URL(".", import.meta.url).pathname;

// `?run=<name>` names the stream's script run; `&impl=herald` records Herald's EventSource, bundled
// for the browser, instead of the native one.
const PAGE = `<!doctype html><meta charset="utf-8"><title>recorder</title><script type="module">
window.recorded = [];
window.finished = false;
const params = new URLSearchParams(location.search);
const Source = params.get("impl") === "herald"
  ? (await import("/herald.js")).EventSource
  : EventSource;
const source = new Source("/stream?run=" + params.get("run"));
const record = (event) => {
  const entry = { type: event.type, readyState: source.readyState };
  if (event.type !== "open" && event.type !== "error") {
    entry.data = event.data;
    entry.lastEventId = event.lastEventId;
    entry.origin = event.origin;
  }
  window.recorded.push(entry);
  if (event.type === "error" && source.readyState === Source.CLOSED) window.finished = true;
};
for (const type of ${JSON.stringify(["open", "error", ...NAMED_TYPES])}) {
  source.addEventListener(type, record);
}
</script>`;

/** One chunk per part, or (`bytewise`) one chunk per byte, a few milliseconds apart. */
function streamBody(parts: string[], bytewise: boolean): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const chunks = parts.map((part) => encoder.encode(part));
  if (bytewise) {
    // Every CRLF, multi-byte character and BOM is split; the pauses keep the writes apart.
    const bytes = chunks.flatMap((chunk) => [...chunk].map((byte) => new Uint8Array([byte])));
    let i = 0;
    return new ReadableStream({
      async pull(controller) {
        if (i === bytes.length) return controller.close();
        if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        controller.enqueue(bytes[i++]);
      },
    });
  }
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe("client: Herald's EventSource matches Chromium's", {
  skip: !canServe || !hasChromium(),
}, () => {
  let server: ScriptedServer;
  let chromium: LaunchedChromium | undefined;
  const connections = new Map<string, number>();

  let heraldBundle = "";

  before(async () => {
    // Herald as a browser would load it: mod.ts bundled to one ES module.
    const bundle = bundleForWorkerd(
      join(here, "..", "..", "mod.ts"),
      join(here, "..", ".out", "e2e-client", "herald_browser.js"),
    );
    heraldBundle = readFileSync(bundle, "utf8");
    server = await scriptedServer((request) => {
      const url = new URL(request.url);
      if (url.pathname === "/") {
        return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      if (url.pathname === "/herald.js") {
        return new Response(heraldBundle, { headers: { "content-type": "text/javascript" } });
      }
      if (url.pathname !== "/stream") return new Response("not found", { status: 404 });
      const run = url.searchParams.get("run") ?? "";
      const n = (connections.get(run) ?? 0) + 1;
      connections.set(run, n);
      if (n > 2) return new Response(null, { status: 204 });
      return new Response(streamBody(n === 1 ? FIRST : SECOND, run.endsWith("-bytewise")), {
        headers: { "content-type": "text/event-stream; charset=utf-8" },
      });
    });
    chromium = await launchChromium();
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
  });

  async function recordInChromium(run: string, impl = "native"): Promise<Recorded[]> {
    const page = await chromium!.newPage();
    try {
      await page.goto(`${server.url}/?run=${run}&impl=${impl}`);
      await page.waitForFunction(() => (globalThis as { finished?: boolean }).finished, null, {
        timeout: 30_000,
      });
      return await page.evaluate(() => (globalThis as { recorded?: Recorded[] }).recorded ?? []);
    } finally {
      await page.close();
    }
  }

  function recordInHerald(run: string): Promise<Recorded[]> {
    return new Promise((resolve, reject) => {
      const recorded: Recorded[] = [];
      const source = new EventSource(`${server.url}/stream?run=${run}`);
      const timer = setTimeout(() => {
        source.close();
        reject(new Error(`Herald did not finish; recorded ${JSON.stringify(recorded)}`));
      }, 30_000);
      const record = (event: Event) => {
        const entry: Recorded = { type: event.type, readyState: source.readyState };
        if (event instanceof MessageEvent) {
          entry.data = event.data;
          entry.lastEventId = event.lastEventId;
          entry.origin = event.origin;
        }
        recorded.push(entry);
        if (event.type === "error" && source.readyState === EventSource.CLOSED) {
          clearTimeout(timer);
          resolve(recorded);
        }
      };
      for (const type of ["open", "error", ...NAMED_TYPES]) source.addEventListener(type, record);
    });
  }

  function streamRequests(run: string) {
    return server.requests
      .filter((r) => r.path === `/stream?run=${run}`)
      .map((r) => ({ accept: r.headers.accept, lastEventId: r.headers["last-event-id"] }));
  }

  it("records identical type/data/lastEventId/origin/readyState sequences across a reconnect", async () => {
    const browser = await recordInChromium("browser");
    const herald = await recordInHerald("herald");
    // The script is not trivially empty: both saw both connections and the final 204.
    assert.equal(browser.filter((e) => e.type === "open").length, 2);
    assert.equal(browser.filter((e) => e.type === "done").length, 1);
    assert.deepEqual(herald, browser);
  });

  it("sends the same Last-Event-ID on the reconnection, and none after an id reset", () => {
    const browser = streamRequests("browser");
    const herald = streamRequests("herald");
    assert.equal(browser.length, 3);
    assert.ok(browser[1].lastEventId, "the browser resumed with a Last-Event-ID");
    assert.equal(browser[2].lastEventId, undefined);
    assert.deepEqual(herald, browser);
  });

  it("records identical sequences when every byte arrives in its own chunk", async () => {
    const browser = await recordInChromium("browser-bytewise");
    const herald = await recordInHerald("herald-bytewise");
    assert.equal(browser.filter((e) => e.type === "open").length, 2);
    assert.deepEqual(herald, browser);
    assert.deepEqual(streamRequests("herald-bytewise"), streamRequests("browser-bytewise"));
  });

  it("Herald's EventSource running inside Chromium records what the native one does", async () => {
    const native = await recordInChromium("native-page", "native");
    const herald = await recordInChromium("herald-page", "herald");
    assert.ok(server.requests.some((r) => r.path === "/herald.js"), "the page loaded Herald");
    assert.equal(native.filter((e) => e.type === "open").length, 2);
    assert.deepEqual(herald, native);
    assert.deepEqual(streamRequests("herald-page"), streamRequests("native-page"));
  });
});
