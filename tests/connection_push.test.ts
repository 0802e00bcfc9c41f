// The response connection's synchronous producer path (push, flush, hasRoom, drained): what the
// hub's fan-out relies on to write a broadcast in the publisher's call with the same backpressure
// and bounds as `send`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SSECloseError } from "../mod.ts";
import { openConnection } from "../src/server/open_connection.ts";

const decoder = new TextDecoder();

describe("response connection: push and flush", () => {
  it("push queues each event and says false once the queue is past half of a bound", () => {
    const connection = openConnection({ maxQueuedEvents: 4 }, undefined);
    assert.deepEqual(
      [1, 2, 3].map((n) => connection.push({ data: n })),
      [true, true, false],
    );
    assert.equal(connection.hasRoom, false);
    connection.close("client-disconnected");
    assert.equal(connection.push({ data: 4 }), false, "nothing is queued once closed");
  });

  it("flush writes everything queued as one chunk, and only while the network waits for bytes", async () => {
    const connection = openConnection({}, undefined);
    const reader = connection.body.getReader();
    assert.equal(decoder.decode((await reader.read()).value), ":\n\n");
    const next = reader.read(); // the network asks for more: pull()
    await Promise.resolve();
    connection.push({ data: "a" });
    connection.push({ data: "b" });
    connection.flush();
    assert.equal(decoder.decode((await next).value), "data: a\n\ndata: b\n\n");
    connection.push({ data: "c" });
    connection.flush(); // nobody is reading: it stays queued...
    assert.equal(connection.hasRoom, true);
    // ...and the network's next read takes it.
    assert.equal(decoder.decode((await reader.read()).value), "data: c\n\n");
    await reader.cancel();
  });

  it("drained resolves once the network takes the queue, and rejects when the client leaves", async () => {
    const connection = openConnection({ maxQueuedEvents: 2 }, undefined);
    const reader = connection.body.getReader();
    await reader.read();
    connection.push({ data: 1 });
    connection.push({ data: 2 });
    let drained = false;
    const waiting = connection.drained().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(drained, false, "the queue is past half: wait");
    assert.equal(decoder.decode((await reader.read()).value), "data: 1\n\ndata: 2\n\n");
    await waiting;
    connection.push({ data: 3 });
    connection.push({ data: 4 });
    const rejected = connection.drained();
    await reader.cancel();
    await assert.rejects(rejected, (error) => error instanceof SSECloseError);
  });

  it("an event the encoder refuses is reported and skipped, and the next ones still go out", async () => {
    const logged: unknown[] = [];
    const connection = openConnection({ logger: { error: (_m, e) => logged.push(e) } }, undefined);
    assert.equal(connection.push({ data: "ok", id: "bad\nid" }), true);
    connection.push({ data: "next" });
    connection.close("producer-done");
    assert.equal(await new Response(connection.body).text(), ":\n\ndata: next\n\n");
    assert.equal(logged.length, 1);
  });
});
