// The reference server's page in a real browser (Debian's Chromium through playwright-core): every
// event shows whatever its name, the layout fits a 390 px phone, the live charts move while a
// publisher runs, and the AI answer demo behaves as a resumable stream should: a reload mid-answer
// continues from the exact token, a reload after the end replays the whole answer and the browser
// stops at the 204 (counted at a proxy in front of the server), Stop ends it `cancelled`, and an
// answer nobody watches is cancelled by the server. The answer uses the browser's own
// EventSource, so resuming by Last-Event-ID and stopping at 204 are the browser's, not ours.
// Screenshots go to tests/.out/screenshots/ as test artifacts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { Redis } from "@upstash/redis";
import { createHub } from "@herald/sse";
import { UpstashBroker } from "@herald/sse/upstash";
import { answerTokens } from "../../examples/server/ai_answer.ts";
import { DEV_JWT_SECRET, DEV_PUBLISHER_KEY } from "../../examples/server/config.ts";
import { signToken } from "../../examples/server/jwt.ts";
import { hasChromium, launchChromium, type LaunchedChromium } from "../support/browser.ts";
import { type ReferenceServer, startReferenceServer } from "../support/reference_server.ts";
import { runtime } from "../support/runtime.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const screenshots = join(repo, "tests", ".out", "screenshots");

const RETRY_MS = 300;
const ENV: Record<string, string> = {
  // Dev mode: the page gets a token cookie and the publisher key, as a newcomer's would.
  HERALD_DEV_MODE: "true",
  HERALD_RETRY_MS: String(RETRY_MS),
  HERALD_KEEP_ALIVE_MS: "2000",
  // About 10 s per answer: long enough to reload, stop or leave in the middle of one.
  HERALD_DEMO_TOKEN_MS: "40",
  // The tests reload and reconnect more often than a person would.
  HERALD_SUBSCRIBE_RATE_PER_SECOND: "50",
  HERALD_SUBSCRIBE_BURST: "100",
};
const PROMPT = "What happens when I reload?";

interface LogEntry {
  event: string;
  id: string;
  data: string;
}

interface AnswerState {
  id: string;
  topic: string;
  cursor: string;
  text: string;
  tokens: number;
  indices: number[];
  lastId: string;
  end: { status: string; reason?: string; message?: string } | null;
  reloads: number;
  replays: number;
  lost?: unknown[];
}

interface LiveSample {
  open: number;
  published: number;
  delivered: number;
  perSecond: { published: number; delivered: number; drops: number };
}

const WAIT_MS = 30_000;

async function publish(
  server: { url: string },
  topic: string,
  event: { event?: string; data: unknown },
): Promise<string> {
  const response = await fetch(`${server.url}/v1/topics/${topic}`, {
    method: "POST",
    headers: { authorization: `Bearer ${DEV_PUBLISHER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(event),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).ids[0];
}

function pageLog(page: Page): Promise<LogEntry[]> {
  return page.evaluate(() =>
    (globalThis as unknown as { heraldLog: LogEntry[] }).heraldLog.map((e) => ({
      event: e.event,
      id: e.id,
      data: e.data,
    }))
  );
}

async function waitForLog(page: Page, count: number): Promise<LogEntry[]> {
  await page.waitForFunction(
    (n) => (globalThis as unknown as { heraldLog: unknown[] }).heraldLog.length >= n,
    count,
    { timeout: WAIT_MS },
  );
  return pageLog(page);
}

async function waitForState(page: Page, selector: string, state: string): Promise<void> {
  await page.waitForSelector(`${selector}[data-state="${state}"]`, { timeout: WAIT_MS });
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as { heraldReady?: boolean }).heraldReady, null, {
    timeout: WAIT_MS,
  });
}

function answerState(page: Page): Promise<AnswerState> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("herald.answer") ?? "null"));
}

async function waitForTokens(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => (JSON.parse(sessionStorage.getItem("herald.answer") ?? "null")?.tokens ?? 0) >= n,
    count,
    { timeout: WAIT_MS },
  );
}

async function ask(page: Page, prompt: string): Promise<void> {
  await page.fill("#prompt", prompt);
  await page.click("#ask");
}

/** Watches the page for script errors and Content-Security-Policy refusals. */
function complaintsOf(page: Page): string[] {
  const complaints: string[] = [];
  page.on("console", (message) => {
    // A refused request shows as a console error too; the tests that provoke one say so.
    if (message.type() === "error" && !/status of (401|429)/.test(message.text())) {
      complaints.push(message.text());
    }
  });
  page.on("pageerror", (error) => complaints.push(String(error)));
  return complaints;
}

async function metric(server: { url: string }, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One request the browser made, as the proxy saw it. */
interface Seen {
  path: string;
  status: number;
}

/**
 * A plain HTTP proxy in front of the server that records every request and its status: what
 * "the browser made no further request" is counted against. Streams bodies both ways as they
 * come, and drops the upstream request when the browser goes away.
 */
async function startCountingProxy(target: () => string): Promise<{
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}> {
  const seen: Seen[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = new URL(incoming.url ?? "/", target());
    const forward = httpRequest(upstream, {
      method: incoming.method,
      headers: { ...incoming.headers, host: upstream.host },
    }, (answer) => {
      seen.push({ path: incoming.url ?? "", status: answer.statusCode ?? 0 });
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forward.on("error", () => outgoing.destroy());
    outgoing.on("close", () => forward.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((done) => {
        (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

/** The reads of one answer's topic the browser made, in order. */
function answerReads(seen: Seen[], topic: string): Seen[] {
  return seen.filter((s) => s.path.startsWith("/v1/events?") && s.path.includes(topic));
}

/** Reads an answer's stream from its first token, with a minted token, until the server closes
 * it: the events' names and data. */
async function readAnswer(
  server: { url: string },
  answer: { topic: string; cursor: string },
): Promise<{ event: string; data: string }[]> {
  const token = await signToken(
    { topics: ["answer.*"], exp: Math.floor(Date.now() / 1000) + 600 },
    DEV_JWT_SECRET,
  );
  const response = await fetch(
    `${server.url}/v1/events?topic=${answer.topic}&lastEventId=${
      encodeURIComponent(answer.cursor)
    }`,
    { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(WAIT_MS) },
  );
  assert.equal(response.status, 200);
  const events: { event: string; data: string }[] = [];
  for (const block of (await response.text()).split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
    if (data.length === 0) continue;
    const name = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
    events.push({ event: name, data: data.join("\n") });
  }
  return events;
}

describe(
  `the reference server's page in Chromium (${runtime} server)`,
  { skip: !hasChromium() || (runtime !== "deno" && runtime !== "bun"), timeout: 300_000 },
  () => {
    const serverRuntime = runtime === "bun" ? "bun" : "deno";
    let chromium: LaunchedChromium;
    let server: ReferenceServer | undefined;

    before(async () => {
      mkdirSync(screenshots, { recursive: true });
      [chromium, server] = await Promise.all([
        launchChromium(),
        startReferenceServer(serverRuntime, { env: ENV }),
      ]);
    });
    after(async () => {
      await Promise.all([chromium?.close(), server?.stop()]);
    });

    it("shows every event with its id, named events included, and publishes from the form", async () => {
      const page = await chromium.newPage();
      const complaints = complaintsOf(page);
      try {
        await page.goto(`${server!.url}/?topics=room.a,room.b`);
        await waitForState(page, "#state", "open");
        await publish(server!, "room.a", { data: { n: 1 } });
        await publish(server!, "room.b", { event: "order.created", data: { id: 42 } });
        const log = await waitForLog(page, 2);
        assert.deepEqual(log.map((e) => [e.event, e.data]), [
          ["message", '{"n":1}'],
          ["order.created", '{"id":42}'],
        ]);
        assert.ok(log.every((e) => e.id.startsWith("h1.")), "every event carries a cursor id");
        assert.notEqual(log[0].id, log[1].id);

        await page.fill("#publish-topic", "room.a");
        await page.fill("#publish-event", "chat.typing");
        await page.fill("#publish-data", '{"from":"the form"}');
        await page.click("#publish-button");
        const all = await waitForLog(page, 3);
        assert.deepEqual([all[2].event, all[2].data], ["chat.typing", '{"from":"the form"}']);
        await page.waitForSelector("#publish-result:has-text('published')", { timeout: WAIT_MS });
        assert.equal(await page.locator("#log li").count(), 3, "the log shows every event");
        assert.deepEqual(await page.locator("#log .name").allTextContents(), [
          "message",
          "order.created",
          "chat.typing",
        ]);
        assert.deepEqual(complaints, [], "no script error and no Content-Security-Policy refusal");
      } finally {
        await page.close();
      }
    });

    it("fits a 390 px wide screen: no horizontal scroll, long ids and data included", async () => {
      const page = await chromium.newPage();
      const complaints = complaintsOf(page);
      try {
        await page.setViewportSize({ width: 390, height: 844 });
        await page.goto(`${server!.url}/?topics=phone`);
        await waitForState(page, "#state", "open");
        await publish(server!, "phone", {
          event: "a.rather.long.event.name.that.could.push.the.layout.sideways",
          data: { text: "x".repeat(300), nested: { list: [1, 2, 3], more: "y".repeat(120) } },
        });
        await publish(server!, "phone", { data: "plain text, short" });
        await waitForLog(page, 2);
        await ask(page, PROMPT);
        await waitForTokens(page, 30);
        await page.waitForFunction(
          () => (globalThis as unknown as { heraldStats: unknown[] }).heraldStats.length >= 3,
          null,
          { timeout: WAIT_MS },
        );
        const [scrollWidth, innerWidth] = await page.evaluate(() => {
          // Runs in the page: the browser's globals, which this file's type library lacks.
          const view = globalThis as unknown as {
            innerWidth: number;
            document: { documentElement: { scrollWidth: number } };
          };
          return [view.document.documentElement.scrollWidth, view.innerWidth];
        });
        assert.ok(scrollWidth <= innerWidth, `scrollWidth ${scrollWidth} > ${innerWidth}`);
        await page.screenshot({
          path: join(screenshots, `server-page-phone-${runtime}.png`),
          fullPage: true,
        });
        assert.deepEqual(complaints, []);
      } finally {
        await page.close();
      }
    });

    it("draws the server's live counters, and the charts move while a publisher runs", async () => {
      const page = await chromium.newPage();
      const complaints = complaintsOf(page);
      try {
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(`${server!.url}/?topics=load`);
        await waitForState(page, "#state", "open");
        await waitForState(page, "#live-state", "open");
        const points = () => page.getAttribute("#chart-published polyline", "points");
        const before = await points();
        // A publisher: 5 events every 100 ms, until the page has seen publishes and deliveries.
        let publishing = true;
        const publisher = (async () => {
          for (let n = 0; publishing && n < 600; n++) {
            const response = await fetch(`${server!.url}/v1/topics/load`, {
              method: "POST",
              headers: {
                authorization: `Bearer ${DEV_PUBLISHER_KEY}`,
                "content-type": "application/json",
              },
              body: JSON.stringify([1, 2, 3, 4, 5].map((i) => ({ data: { n, i } }))),
            });
            await response.body?.cancel();
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        try {
          await page.waitForFunction(
            () => {
              const samples = (globalThis as unknown as { heraldStats: LiveSample[] }).heraldStats;
              const last = samples[samples.length - 1];
              // A few seconds of it, so that the screenshot shows a line, not a dot.
              return samples.length >= 6 && last.perSecond.published > 0 &&
                last.perSecond.delivered > 0;
            },
            null,
            { timeout: WAIT_MS },
          );
        } finally {
          publishing = false;
          await publisher;
        }
        const samples: LiveSample[] = await page.evaluate(() =>
          (globalThis as unknown as { heraldStats: LiveSample[] }).heraldStats
        );
        const last = samples[samples.length - 1];
        assert.ok(last.open >= 2, "the page's own streams are counted");
        assert.ok(last.published >= 5 && last.delivered >= 5);
        assert.notEqual(await points(), before, "the publishes chart moved");
        assert.notEqual(await page.textContent("#value-published"), "–");
        assert.ok((await waitForLog(page, 5)).length >= 5);
        await page.screenshot({ path: join(screenshots, `server-page-desktop-${runtime}.png`) });
        assert.deepEqual(complaints, []);
      } finally {
        await page.close();
      }
    });

    it("with dev mode off, takes a pasted token and key, and shows why a bad one fails", async () => {
      const secret = "manual-test-secret-0123456789-abcdefg";
      const key = "manual-test-publisher-key-0123456789";
      const manual = await startReferenceServer(serverRuntime, {
        env: {
          ...ENV,
          HERALD_DEV_MODE: "false",
          HERALD_JWT_SECRET: secret,
          HERALD_PUBLISHER_KEYS: key,
        },
      });
      const page = await chromium.newPage();
      try {
        await page.goto(manual.url);
        await page.waitForSelector("#auth-manual:not([hidden])", { timeout: WAIT_MS });
        await page.fill("#token", "not-a-token");
        await page.fill("#topics", "manual");
        await page.click("#connect");
        await waitForState(page, "#state", "closed");
        await page.waitForSelector("#subscribe-error:has-text('401 token-invalid')", {
          timeout: WAIT_MS,
        });

        const token = await signToken(
          { topics: ["manual"], exp: Math.floor(Date.now() / 1000) + 600 },
          secret,
        );
        await page.fill("#token", token);
        await page.fill("#publisher-key", key);
        await page.click("#connect");
        await waitForState(page, "#state", "open");
        await page.fill("#publish-topic", "manual");
        await page.fill("#publish-event", "");
        await page.fill("#publish-data", "pasted");
        await page.click("#publish-button");
        const log = await waitForLog(page, 1);
        assert.deepEqual([log[0].event, log[0].data], ["message", "pasted"]);
        assert.equal(await page.textContent("#subscribe-error"), "");
      } finally {
        await page.close();
        await manual.stop();
      }
    });

    it("AI answer: a reload mid-answer continues from the exact token; after the end a reload replays it all, and the browser stops at 204", async () => {
      const expected = answerTokens(PROMPT);
      const proxy = await startCountingProxy(() => server!.url);
      const page = await chromium.newPage();
      const complaints = complaintsOf(page);
      try {
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(proxy.url);
        await ready(page);
        await ask(page, PROMPT);
        await waitForTokens(page, 25);
        await page.reload();
        const resumedWith = await answerState(page);
        assert.ok(
          resumedWith.tokens >= 25 && resumedWith.tokens < expected.length,
          `reloaded mid-answer (${resumedWith.tokens} of ${expected.length} tokens)`,
        );
        await waitForState(page, "#answer-state", "done");
        const state = await answerState(page);
        assert.equal(state.reloads, 1);
        assert.equal(await page.inputValue("#prompt"), PROMPT, "the prompt is kept too");
        assert.deepEqual(state.end, { status: "done" });
        assert.deepEqual(state.indices, expected.map((_, i) => i), "every token once, in order");
        assert.equal(state.text, expected.join(""), "no repeated and no missing text");
        assert.equal(await page.textContent("#answer"), expected.join(""));
        assert.equal(state.lost, undefined, "no history was lost");
        // The stream's end closed the response; the browser's reconnect got 204 and it stopped.
        await eventually(
          () => answerReads(proxy.seen, state.topic).some((s) => s.status === 204),
          WAIT_MS,
          "the reconnect after the end to be answered 204",
        );
        await page.screenshot({ path: join(screenshots, `server-page-answer-${runtime}.png`) });

        const seenBefore = proxy.seen.length;
        await page.reload();
        await waitForState(page, "#answer-state", "done");
        const replayed = await answerState(page);
        assert.equal(replayed.replays, 1);
        assert.equal(replayed.text, expected.join(""), "the whole answer, replayed");
        assert.deepEqual(replayed.indices, expected.map((_, i) => i));
        await eventually(
          () =>
            answerReads(proxy.seen.slice(seenBefore), state.topic).some((s) => s.status === 204),
          WAIT_MS,
          "the reconnect after the replay to be answered 204",
        );
        // Several retry intervals later, still nothing more: the browser stopped for good.
        await new Promise((r) => setTimeout(r, RETRY_MS * 8));
        assert.deepEqual(
          answerReads(proxy.seen.slice(seenBefore), state.topic).map((s) => s.status),
          [200, 204],
          "one replay, one reconnect answered 204, then no request",
        );
        assert.deepEqual(complaints, []);
      } finally {
        await page.close();
        await proxy.close();
      }
    });

    it("AI answer: Stop cancels it, and the page shows it ended cancelled", async () => {
      const page = await chromium.newPage();
      try {
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.emulateMedia({ colorScheme: "dark" }); // and the dark theme gets a look
        await page.goto(server!.url);
        await ready(page);
        const stoppedBefore = await metric(
          server!,
          /^herald_streams_cancelled_total\{reason="stopped"\} (\d+)$/m,
        );
        await ask(page, PROMPT);
        await waitForTokens(page, 5);
        await page.click("#stop");
        await waitForState(page, "#answer-state", "cancelled");
        const state = await answerState(page);
        assert.deepEqual(state.end, { status: "cancelled", reason: "stopped" });
        assert.ok(state.tokens < answerTokens(PROMPT).length, "stopped before the end");
        assert.match(await page.textContent("#answer-progress") ?? "", /ended cancelled/);
        assert.equal(await page.isDisabled("#stop"), true);
        assert.equal(await page.isDisabled("#ask"), false, "a new answer can be asked for");
        assert.equal(
          await metric(server!, /^herald_streams_cancelled_total\{reason="stopped"\} (\d+)$/m),
          stoppedBefore + 1,
        );
        await page.screenshot({ path: join(screenshots, `server-page-dark-${runtime}.png`) });
      } finally {
        await page.close();
      }
    });

    it("AI answer: once every tab is closed, the server cancels it as unwatched (/metrics counts it)", async () => {
      const page = await chromium.newPage();
      let answer: AnswerState;
      const unwatched = /^herald_streams_cancelled_total\{reason="unwatched"\} (\d+)$/m;
      const before = await metric(server!, unwatched);
      try {
        await page.goto(server!.url);
        await ready(page);
        await ask(page, PROMPT);
        await waitForTokens(page, 3);
        answer = await answerState(page);
      } finally {
        await page.close();
      }
      await eventually(
        async () => await metric(server!, unwatched) > before,
        WAIT_MS,
        'herald_streams_cancelled_total{reason="unwatched"} to grow',
      );
      const events = await readAnswer(server!, answer);
      const end = events[events.length - 1];
      assert.equal(end.event, "herald.end");
      assert.deepEqual(JSON.parse(end.data), { status: "cancelled", reason: "unwatched" });
      assert.ok(events.length - 1 < answerTokens(PROMPT).length, "it stopped before the end");
    });

    it("resumes after the server restarts under it; with the memory broker it first says history was lost", async () => {
      const page = await chromium.newPage();
      try {
        await page.goto(`${server!.url}/?topics=restart`);
        await waitForState(page, "#state", "open");
        await publish(server!, "restart", { data: "before-1" });
        await publish(server!, "restart", { data: "before-2" });
        await waitForLog(page, 2);

        const port = server!.port;
        await server!.stop();
        await waitForState(page, "#state", "reconnecting");
        server = await startReferenceServer(serverRuntime, { env: ENV, port });
        await publish(server, "restart", { data: "after-1" });
        await waitForState(page, "#state", "open");
        await publish(server, "restart", { data: "after-2" });

        const log = await waitForLog(page, 5);
        assert.deepEqual(log.slice(0, 2).map((e) => e.data), ["before-1", "before-2"]);
        assert.equal(log[2].event, "herald.history-lost");
        const lost = JSON.parse(log[2].data);
        assert.equal(lost.topic, "restart");
        assert.equal(lost.reason, "reset");
        assert.deepEqual(log.slice(3).map((e) => e.data), ["after-1", "after-2"]);
        await page.screenshot({
          path: join(screenshots, `server-page-restart-${runtime}.png`),
          fullPage: true,
        });
      } finally {
        await page.close();
      }
    });
  },
);

describe(
  `the reference server's page in Chromium, Upstash broker (${runtime} server)`,
  { skip: !hasChromium() || (runtime !== "deno" && runtime !== "bun"), timeout: 240_000 },
  () => {
    const serverRuntime = runtime === "bun" ? "bun" : "deno";
    let chromium: LaunchedChromium;
    let rest: UpstashRestServer;
    let server: ReferenceServer | undefined;
    let env: Record<string, string>;

    before(async () => {
      mkdirSync(screenshots, { recursive: true });
      [chromium, rest] = await Promise.all([launchChromium(), startUpstashRestServer()]);
      env = { ...ENV, UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token };
      server = await startReferenceServer(serverRuntime, { env });
    });
    after(async () => {
      await Promise.all([chromium?.close(), server?.stop()]);
      await rest?.stop();
    });

    it("AI answer on Upstash: a reload mid-answer continues from the exact token to its end", async () => {
      const expected = answerTokens(PROMPT);
      const page = await chromium.newPage();
      try {
        await page.goto(server!.url);
        await ready(page);
        await ask(page, PROMPT);
        await waitForTokens(page, 20);
        await page.reload();
        await waitForState(page, "#answer-state", "done");
        const state = await answerState(page);
        assert.equal(state.reloads, 1);
        assert.deepEqual(state.end, { status: "done" });
        assert.deepEqual(state.indices, expected.map((_, i) => i), "every token once, in order");
        assert.equal(state.text, expected.join(""));
      } finally {
        await page.close();
      }
    });

    it("resumes after the server restarts under it with no gap, events published meanwhile included", async () => {
      const health = await (await fetch(`${server!.url}/healthz`)).json();
      assert.equal(health.broker, "upstash");
      const page = await chromium.newPage();
      try {
        await page.goto(`${server!.url}/?topics=survivor`);
        await waitForState(page, "#state", "open");
        await publish(server!, "survivor", { data: "before-1" });
        await publish(server!, "survivor", { data: "before-2" });
        await waitForLog(page, 2);

        const port = server!.port;
        await server!.stop();
        await waitForState(page, "#state", "reconnecting");
        // Published while no server runs: straight into the same Redis, by another hub.
        const hub = createHub({
          broker: new UpstashBroker({ redis: new Redis({ url: rest.url, token: rest.token }) }),
        });
        await hub.publish("survivor", [{ data: "during-1" }, { data: "during-2" }]);
        server = await startReferenceServer(serverRuntime, { env, port });
        await waitForState(page, "#state", "open");
        await publish(server, "survivor", { data: "after-1" });

        const log = await waitForLog(page, 5);
        assert.deepEqual(log.map((e) => [e.event, e.data]), [
          ["message", "before-1"],
          ["message", "before-2"],
          ["message", "during-1"],
          ["message", "during-2"],
          ["message", "after-1"],
        ]);
        assert.equal(new Set(log.map((e) => e.id)).size, 5);
        await page.screenshot({
          path: join(screenshots, `server-page-upstash-${runtime}.png`),
          fullPage: true,
        });
      } finally {
        await page.close();
      }
    });
  },
);
