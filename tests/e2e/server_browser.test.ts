// The reference server's page in a real browser (Debian's Chromium through playwright-core):
// it receives events, it survives a server restart under it, and a reload in the middle of the
// AI answer continues from the exact token. The page uses the browser's own EventSource, so the
// resume by Last-Event-ID tested here is the browser's, not ours. Screenshots go to
// tests/.out/screenshots/ as test artifacts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { Redis } from "@upstash/redis";
import { createHub } from "../../mod.ts";
import { UpstashBroker } from "../../src/adapters/upstash.ts";
import { answerTokens } from "../../examples/server/ai_answer.ts";
import { signToken } from "../../examples/server/jwt.ts";
import { hasChromium, launchChromium, type LaunchedChromium } from "../support/browser.ts";
import { type ReferenceServer, startReferenceServer } from "../support/reference_server.ts";
import { runtime } from "../support/runtime.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const screenshots = join(repo, "tests", ".out", "screenshots");

const PUBLISHER_KEY = "browser-publisher-key";
const ENV: Record<string, string> = {
  // Dev mode: the page gets a token cookie and the publisher key, as a newcomer's would.
  HERALD_DEV_MODE: "true",
  HERALD_JWT_SECRET: "browser-test-secret-0123456789-abcdefgh",
  HERALD_PUBLISHER_KEYS: PUBLISHER_KEY,
  HERALD_RETRY_MS: "300",
  HERALD_KEEP_ALIVE_MS: "2000",
  HERALD_DEMO_TOKEN_MS: "25",
};

interface LogEntry {
  event: string;
  id: string;
  data: string;
}

interface AnswerState {
  topic: string;
  text: string;
  tokens: number;
  indices: number[];
  lastId: string;
  done: boolean;
  reloads: number;
  lost?: unknown[];
}

const WAIT_MS = 30_000;

async function publish(server: ReferenceServer, topic: string, data: unknown): Promise<string> {
  const response = await fetch(`${server.url}/v1/topics/${topic}`, {
    method: "POST",
    headers: { authorization: `Bearer ${PUBLISHER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ data }),
  });
  assert.equal(response.status, 200);
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

function answerState(page: Page): Promise<AnswerState> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("herald.answer") ?? "null"));
}

describe(
  `the reference server's page in Chromium (${runtime} server)`,
  { skip: !hasChromium() || (runtime !== "deno" && runtime !== "bun"), timeout: 240_000 },
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

    it("receives events with their ids and publishes from the form", async () => {
      const page = await chromium.newPage();
      const complaints: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") complaints.push(message.text());
      });
      page.on("pageerror", (error) => complaints.push(String(error)));
      try {
        await page.goto(`${server!.url}/?topics=room.a,room.b`);
        await waitForState(page, "#state", "open");
        const ids = [
          await publish(server!, "room.a", { n: 1 }),
          await publish(server!, "room.b", "two"),
        ];
        assert.equal(ids.length, 2);
        const log = await waitForLog(page, 2);
        assert.deepEqual(log.map((e) => [e.event, e.data]), [["message", '{"n":1}'], [
          "message",
          "two",
        ]]);
        assert.ok(log.every((e) => e.id.startsWith("h1.")), "every event carries a cursor id");
        assert.notEqual(log[0].id, log[1].id);

        await page.fill("#publish-topic", "room.a");
        await page.fill("#publish-event", "");
        await page.fill("#publish-data", '{"from":"the form"}');
        await page.click("#publish-button");
        const after = await waitForLog(page, 3);
        assert.equal(after[2].data, '{"from":"the form"}');
        await page.waitForSelector("#publish-result:has-text('published')", { timeout: WAIT_MS });
        assert.equal(await page.locator("#log tr").count(), 3, "the table shows every event");
        await page.screenshot({ path: join(screenshots, `server-page-events-${runtime}.png`) });
        assert.deepEqual(complaints, [], "no script error and no Content-Security-Policy refusal");
      } finally {
        await page.close();
      }
    });

    it("with dev mode off, takes a pasted token (?token=) and key, and shows why a bad one fails", async () => {
      const secret = "manual-test-secret-0123456789-abcdefg";
      const manual = await startReferenceServer(serverRuntime, {
        env: { ...ENV, HERALD_DEV_MODE: "false", HERALD_JWT_SECRET: secret },
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
        await page.fill("#publisher-key", PUBLISHER_KEY);
        await page.click("#connect");
        await waitForState(page, "#state", "open");
        await page.fill("#publish-topic", "manual");
        await page.fill("#publish-data", "pasted");
        await page.click("#publish-button");
        const log = await waitForLog(page, 1);
        assert.deepEqual([log[0].event, log[0].data], ["message", "pasted"]);
      } finally {
        await page.close();
        await manual.stop();
      }
    });

    it("reloaded in the middle of the AI answer, continues from the exact token", async () => {
      const expected = answerTokens();
      const page = await chromium.newPage();
      try {
        await page.goto(server!.url);
        await page.waitForFunction(() => (globalThis as { heraldReady?: boolean }).heraldReady);
        await page.click("#ask");
        await page.waitForFunction(
          () => {
            const state = JSON.parse(sessionStorage.getItem("herald.answer") ?? "null");
            return state && state.tokens >= 25;
          },
          undefined,
          { timeout: WAIT_MS },
        );
        await page.reload();
        const resumedWith = await answerState(page);
        assert.ok(resumedWith.tokens >= 25 && resumedWith.tokens < expected.length, "mid-answer");
        await waitForState(page, "#answer-state", "done");
        const state = await answerState(page);
        assert.equal(state.reloads, 1);
        assert.deepEqual(
          state.indices,
          expected.map((_, i) => i),
          "every token exactly once, in order",
        );
        assert.equal(state.text, expected.join(""), "no repeated and no missing text");
        assert.equal(await page.locator("#answer").textContent(), expected.join(""));
        assert.equal(state.lost, undefined, "no history was lost");
        await page.screenshot({ path: join(screenshots, `server-page-answer-${runtime}.png`) });
      } finally {
        await page.close();
      }
    });

    it("resumes after the server restarts under it; with the memory broker it first says history was lost", async () => {
      const page = await chromium.newPage();
      try {
        await page.goto(`${server!.url}/?topics=restart`);
        await waitForState(page, "#state", "open");
        await publish(server!, "restart", "before-1");
        await publish(server!, "restart", "before-2");
        await waitForLog(page, 2);

        const port = server!.port;
        await server!.stop();
        await waitForState(page, "#state", "reconnecting");
        server = await startReferenceServer(serverRuntime, { env: ENV, port });
        await publish(server, "restart", "after-1");
        await waitForState(page, "#state", "open");
        await publish(server, "restart", "after-2");

        const log = await waitForLog(page, 5);
        assert.deepEqual(log.slice(0, 2).map((e) => e.data), ["before-1", "before-2"]);
        assert.equal(log[2].event, "herald.history-lost");
        const lost = JSON.parse(log[2].data);
        assert.equal(lost.topic, "restart");
        assert.equal(lost.reason, "reset");
        assert.deepEqual(log.slice(3).map((e) => e.data), ["after-1", "after-2"]);
        await page.screenshot({ path: join(screenshots, `server-page-restart-${runtime}.png`) });
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

    it("resumes after the server restarts under it with no gap, events published meanwhile included", async () => {
      const health = await (await fetch(`${server!.url}/healthz`)).json();
      assert.equal(health.broker, "upstash");
      const page = await chromium.newPage();
      try {
        await page.goto(`${server!.url}/?topics=survivor`);
        await waitForState(page, "#state", "open");
        await publish(server!, "survivor", "before-1");
        await publish(server!, "survivor", "before-2");
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
        await publish(server, "survivor", "after-1");

        const log = await waitForLog(page, 5);
        assert.deepEqual(log.map((e) => [e.event, e.data]), [
          ["message", "before-1"],
          ["message", "before-2"],
          ["message", "during-1"],
          ["message", "during-2"],
          ["message", "after-1"],
        ]);
        assert.equal(new Set(log.map((e) => e.id)).size, 5);
        await page.screenshot({ path: join(screenshots, `server-page-upstash-${runtime}.png`) });
      } finally {
        await page.close();
      }
    });
  },
);
