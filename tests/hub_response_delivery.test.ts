// How hub.response hands events to its connection: events published while a subscription opens
// come first and in order, a client that stops reading holds back only its own stream (and is
// ended by its bounds), and a failing onDeliver ends only its own subscriber. Run on every
// runtime: where I/O may cross requests an idle subscriber is written to in the publisher's call,
// on Workers its own request's loop is woken; both must keep these promises.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHub, MemoryBroker, type SSECloseReason } from "../mod.ts";
import type { Broker } from "../broker.ts";
import { until } from "./hub_helpers.ts";

/** Reads an SSE body as text until `done(text)` holds, then cancels it. */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

const dataLines = (text: string) => [...text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);

describe("hub.response delivery", () => {
  it("delivers events published while the subscription was opening first, in order, then live ones", async () => {
    const memory = new MemoryBroker();
    // Publishes land after the subscriber listened and read the heads, before the response
    // exists: they wait in the subscriber and must come out ahead of anything later.
    const broker: Broker = {
      publish: (topic, events) => memory.publish(topic, events),
      listen: (listener) => memory.listen(listener),
      unlisten: (listener) => memory.unlisten(listener),
      async read(requests, limit) {
        const read = await memory.read(requests, limit);
        await memory.publish("t", [{ data: "early-1" }, { data: "early-2" }]);
        await memory.publish("t", [{ data: "early-3" }]);
        return read;
      },
    };
    const hub = createHub({ broker });
    const response = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    await hub.publish("t", [{ data: "live-1" }, { data: "live-2" }]);
    const text = await readUntil(response.body!, (t) => t.includes("live-2"));
    assert.deepEqual(dataLines(text), ["early-1", "early-2", "early-3", "live-1", "live-2"]);
  });

  it("a client that stops reading holds back only its own stream, which its bounds then end", async () => {
    const hub = createHub({ broker: new MemoryBroker(), maxQueuedEvents: 64 });
    const closed: SSECloseReason[] = [];
    const logged: unknown[] = [];
    const stalled = await hub.response(new Request("http://h/events"), {
      topics: ["t"],
      maxQueuedEvents: 8,
      onClose: (reason) => closed.push(reason),
      logger: { error: (_message, error) => logged.push(error) },
    });
    const stalledReader = stalled.body!.getReader();
    await stalledReader.read(); // the first bytes, then it reads nothing more
    const reading = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    const total = 200;
    const text = readUntil(reading.body!, (t) => t.includes(`data: ${total - 1}\n`));
    for (let n = 0; n < total; n += 10) {
      await hub.publish("t", Array.from({ length: 10 }, (_, k) => ({ data: n + k })));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.deepEqual(
      dataLines(await text),
      Array.from({ length: total }, (_, n) => String(n)),
      "the reading client got everything, in order",
    );
    await until(() => closed.length === 1, "the stalled stream to end");
    assert.equal(closed[0], "producer-error", "it fell behind its subscriber's bound");
    assert.match(String((logged[0] as Error).message), /fell more than 64 events behind/);
    await stalledReader.cancel();
  });

  it("an onDeliver that throws ends its own subscriber's stream, not the others'", async () => {
    const hub = createHub({ broker: new MemoryBroker() });
    const closed: SSECloseReason[] = [];
    const failing = await hub.response(new Request("http://h/events"), {
      topics: ["t"],
      onDeliver() {
        throw new Error("metering failed (test)");
      },
      onClose: (reason) => closed.push(reason),
      logger: { error() {} },
    });
    const failingText = readUntil(failing.body!, () => false);
    const healthy = await hub.response(new Request("http://h/events"), { topics: ["t"] });
    const healthyText = readUntil(healthy.body!, (t) => t.includes("data: 2\n"));
    await hub.publish("t", { data: 1 });
    await hub.publish("t", { data: 2 });
    assert.deepEqual(dataLines(await healthyText), ["1", "2"]);
    await until(() => closed.length === 1, "the failing stream to end");
    assert.equal(closed[0], "producer-error");
    assert.ok(!(await failingText).includes("data: 2"));
  });
});
