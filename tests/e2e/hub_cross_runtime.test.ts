// Two hub server processes, one on Deno and one on Bun, on the same Upstash (the REST test server
// in front of a private redis-server): publish on one, subscribers on both get every event once;
// a cursor from one runtime resumes on the other. Runs under the Deno host only (it starts both).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { runtime } from "../support/runtime.ts";
import { startUpstashRestServer, type UpstashRestServer } from "../support/upstash_rest_server.ts";
import { type CollectingClient, jsonData, openCollecting, until } from "../hub_helpers.ts";

const bin = (name: string) => new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;
const script = new URL("./workers/hub_server.ts", import.meta.url).pathname;

interface HubProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function startHubProcess(
  command: string[],
  env: Record<string, string>,
): Promise<HubProcess> {
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command[0]} did not start:\n${output}`));
    }, 30_000);
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${match[1]}`, output: () => output });
      }
    });
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command[0]} exited (${code}):\n${output}`));
    });
  });
}

function stopProcess(hub: HubProcess | undefined): Promise<void> {
  if (!hub || hub.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => hub.child.kill("SIGKILL"), 3_000);
    hub.child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    hub.child.kill("SIGTERM");
  });
}

async function publish(hub: HubProcess, topic: string, events: unknown[]): Promise<string[]> {
  const response = await fetch(`${hub.url}/publish?topic=${topic}`, {
    method: "POST",
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

describe("hub across runtimes: Deno and Bun processes on one Upstash", {
  skip: runtime !== "deno",
}, () => {
  let server: UpstashRestServer;
  let onDeno: HubProcess | undefined;
  let onBun: HubProcess | undefined;
  const clients: CollectingClient[] = [];

  before(async () => {
    server = await startUpstashRestServer();
    const env = { HUB_UPSTASH_URL: server.url, HUB_UPSTASH_TOKEN: server.token, HUB_PREFIX: "x" };
    [onDeno, onBun] = await Promise.all([
      startHubProcess([bin("deno"), "run", "-A", script], env),
      startHubProcess([bin("bun"), script], env),
    ]);
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all([stopProcess(onDeno), stopProcess(onBun)]);
    await server?.stop();
  });

  it("publish on one; every subscriber on both gets every event exactly once, in order", async () => {
    server.resetCounters();
    const events = `/events?topic=a&topic=b`;
    for (let i = 0; i < 5; i++) {
      clients.push(await openCollecting(onDeno!.url + events));
      clients.push(await openCollecting(onBun!.url + events));
    }
    // Every client holds its starting cursor before anything is published.
    await until(() => clients.every((c) => c.lastEventId !== ""), "starting cursors");
    for (let n = 0; n < 60; n++) {
      const topic = n % 3 ? "a" : "b";
      await publish(n % 2 ? onBun! : onDeno!, topic, [{ data: { topic, n } }]);
    }
    await until(
      () => clients.every((c) => jsonData(c).length >= 60),
      () => `60 events each (${clients.map((c) => jsonData(c).length)})`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const client of clients) {
      const got = jsonData(client) as { topic: string; n: number }[];
      assert.equal(got.length, 60, "nothing twice");
      assert.deepEqual(got.map((e) => e.n).sort((x, y) => x - y), [...Array(60).keys()]);
      for (const topic of ["a", "b"]) {
        const ns = got.filter((e) => e.topic === topic).map((e) => e.n);
        assert.deepEqual(ns, [...ns].sort((x, y) => x - y), `in order on ${topic}`);
      }
    }
    // One upstream subscription per process, not per subscriber.
    assert.equal(server.counters.subscriptionsOpened, 2);
    assert.equal(server.counters.byCommand.EVAL >= 60, true);
  });

  it("a cursor from the Deno process resumes exactly on the Bun process", async () => {
    const first = await openCollecting(onDeno!.url + "/events?topic=c");
    await until(() => first.lastEventId !== "", "a starting cursor");
    await publish(onBun!, "c", [{ data: 1 }, { data: 2 }]);
    await until(() => jsonData(first).length === 2, "two events");
    await first.close();
    await publish(onDeno!, "c", [{ data: 3 }, { data: 4 }]);
    const resumed = await openCollecting(onBun!.url + "/events?topic=c", first.lastEventId);
    clients.push(resumed);
    await until(() => jsonData(resumed).length >= 2, "the two missed events");
    await publish(onDeno!, "c", [{ data: 5 }]);
    await until(() => jsonData(resumed).length >= 3, "the next live event");
    assert.deepEqual(jsonData(resumed), [3, 4, 5]);
  });

  it("both processes recover from a dropped upstream without loss or duplicates", async () => {
    const a = await openCollecting(onDeno!.url + "/events?topic=d");
    const b = await openCollecting(onBun!.url + "/events?topic=d");
    clients.push(a, b);
    await until(() => a.lastEventId !== "" && b.lastEventId !== "", "starting cursors");
    server.dropSubscriptions({ mode: "stall" });
    for (let n = 0; n < 10; n++) await publish(onDeno!, "d", [{ data: n }]);
    await until(() => jsonData(a).length >= 10 && jsonData(b).length >= 10, "ten events each");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(jsonData(a), [...Array(10).keys()]);
    assert.deepEqual(jsonData(b), [...Array(10).keys()]);
  });
});
