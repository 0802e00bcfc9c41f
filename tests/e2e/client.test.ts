// The fetch-based client against real servers on 127.0.0.1 (Deno.serve under Deno, Bun.serve
// under Bun). Reconnection delays run through recording timers: the tests assert the delays the
// client chose, never wall time.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  EventSource,
  SSEClientError,
  SSEClientErrorEvent,
  type SSEMessage,
} from "../../mod.ts";
import { canServe } from "../support/runtime.ts";
import {
  pause,
  recordingTimers,
  type ScriptedServer,
  scriptedServer,
  sseStream,
  sseText,
  until,
} from "./client_servers.ts";

const servers: ScriptedServer[] = [];
async function server(
  ...args: Parameters<typeof scriptedServer>
): Promise<ScriptedServer> {
  const s = await scriptedServer(...args);
  servers.push(s);
  return s;
}

/** Events 1..total, `k` per connection, resuming after Last-Event-ID; 204 once all are sent. */
function dropEveryK(total: number, k: number, name?: (n: number) => string | undefined) {
  return (request: Request): Response => {
    const last = Number(request.headers.get("last-event-id") ?? "0");
    if (last >= total) return new Response(null, { status: 204 });
    let text = "";
    for (let n = last + 1; n <= Math.min(total, last + k); n++) {
      text += `id: ${n}\n` + (name?.(n) ? `event: ${name(n)}\n` : "") + `data: event ${n}\n\n`;
    }
    return sseText(text);
  };
}

async function collect(iterable: AsyncIterable<SSEMessage>, limit = 1000): Promise<SSEMessage[]> {
  const out: SSEMessage[] = [];
  for await (const message of iterable) {
    out.push(message);
    if (out.length >= limit) break;
  }
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<SSEClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SSEClientError, `an SSEClientError, got ${error}`);
    return error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

describe("client: reconnection and resume", { skip: !canServe }, () => {
  after(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("reconnects with Last-Event-ID when the server drops every k events, delivering each event once, in order", async () => {
    const s = await server(dropEveryK(25, 4));
    const { timers } = recordingTimers();
    const messages = await collect(connect(s.url + "/events", { timers }));
    assert.deepEqual(messages.map((m) => m.data), [...Array(25)].map((_, i) => `event ${i + 1}`));
    assert.deepEqual(messages.map((m) => m.lastEventId), [...Array(25)].map((_, i) => `${i + 1}`));
    assert.deepEqual(
      s.requests.map((r) => r.headers["last-event-id"] ?? ""),
      ["", "4", "8", "12", "16", "20", "24", "25"],
    );
    assert.ok(s.requests.every((r) => r.headers.accept === "text/event-stream"));
  });

  it("EventSource: the same drops, with named events to their listeners and the rest to onmessage", async () => {
    const s = await server(dropEveryK(12, 5, (n) => (n % 3 === 0 ? "tick" : undefined)));
    const { timers } = recordingTimers();
    const seen: string[] = [];
    const source = new EventSource(s.url + "/events", { timers });
    source.onmessage = (e) => seen.push(`message ${e.data} #${e.lastEventId}`);
    source.addEventListener("tick", (e) => seen.push(`tick ${(e as MessageEvent).data}`));
    let closedBy204: SSEClientError | undefined;
    source.onerror = (e) => {
      if (source.readyState === EventSource.CLOSED) closedBy204 = e.error;
    };
    await until(() => closedBy204 !== undefined, "the 204 after the last event");
    assert.equal(closedBy204?.code, "no-content");
    const expected = [...Array(12)].map((_, i) =>
      (i + 1) % 3 === 0 ? `tick event ${i + 1}` : `message event ${i + 1} #${i + 1}`
    );
    assert.deepEqual(seen, expected);
    assert.equal(source.lastEventId, "12");
  });

  it("starts from the lastEventId option", async () => {
    const s = await server(dropEveryK(6, 10));
    const messages = await collect(connect(s.url, { lastEventId: "3", ...recordingTimers() }));
    assert.deepEqual(messages.map((m) => m.id), ["4", "5", "6"]);
    assert.equal(s.requests[0].headers["last-event-id"], "3");
  });

  it("a program that breaks after two messages and saves lastEventId resumes with the third", async () => {
    // All six events in one response body: the client has parsed them all before the loop
    // takes the first, so a position taken from the parser would skip the unread ones.
    const s = await server(dropEveryK(6, 6));
    const first = connect(s.url, recordingTimers());
    const handled: string[] = [];
    for await (const message of first) {
      handled.push(message.data);
      if (handled.length === 2) break;
    }
    const saved = first.lastEventId;
    assert.equal(saved, "2");
    const messages = await collect(connect(s.url, { lastEventId: saved, ...recordingTimers() }));
    assert.deepEqual(messages.map((m) => m.data), ["event 3", "event 4", "event 5", "event 6"]);
    assert.equal(s.requests[1].headers["last-event-id"], "2");
  });

  it("sends a non-ASCII last event ID as its UTF-8 bytes, as browsers do", async () => {
    const s = await server((_request, n) =>
      n === 1 ? sseText("id: é€\ndata: x\n\n") : new Response(null, { status: 204 })
    );
    await collect(connect(s.url, recordingTimers()));
    const bytes = [...(s.requests[1].headers["last-event-id"] ?? "")].map((c) => c.charCodeAt(0));
    assert.deepEqual(bytes, [...new TextEncoder().encode("é€")]);
  });
});

describe("client: requests", { skip: !canServe }, () => {
  after(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("sends the POST body and method again on every reconnection", async () => {
    const s = await server(dropEveryK(6, 2));
    const body = JSON.stringify({ topic: "news", ask: "ünïcode" });
    await collect(connect(s.url, { method: "POST", body, ...recordingTimers() }));
    assert.equal(s.requests.length, 4);
    for (const r of s.requests) {
      assert.equal(r.method, "POST");
      assert.equal(r.body, body);
    }
  });

  it("calls the headers function before every attempt, so a refreshed token is sent", async () => {
    const s = await server(dropEveryK(4, 2));
    const calls: { attempt: number; lastEventId: string }[] = [];
    let token = 0;
    await collect(connect(s.url, {
      headers: async (info) => {
        calls.push(info);
        await pause(1);
        return { authorization: `Bearer t${++token}` };
      },
      ...recordingTimers(),
    }));
    assert.deepEqual(s.requests.map((r) => r.headers.authorization), [
      "Bearer t1",
      "Bearer t2",
      "Bearer t3",
    ]);
    assert.deepEqual(calls, [
      { attempt: 1, lastEventId: "" },
      { attempt: 2, lastEventId: "2" },
      { attempt: 3, lastEventId: "4" },
    ]);
  });

  it("follows redirects, and reconnects to the URL it was given", async () => {
    const s = await server((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/old") return Response.redirect(new URL("/new", request.url).href, 307);
      return dropEveryK(3, 2)(request);
    });
    const messages = await collect(connect(s.url + "/old", recordingTimers()));
    assert.deepEqual(messages.map((m) => m.data), ["event 1", "event 2", "event 3"]);
    assert.deepEqual(s.requests.map((r) => r.path), [
      "/old",
      "/new",
      "/old",
      "/new",
      "/old",
      "/new",
    ]);
  });

  it("lets onResponse read headers, and refuse a response with response-rejected", async () => {
    const s = await server(() =>
      new Response("data: x\n\n", {
        headers: { "content-type": "text/event-stream", "x-version": "2" },
      })
    );
    const versions: string[] = [];
    const error = await rejection(collect(connect(s.url, {
      onResponse(response) {
        versions.push(response.headers.get("x-version") ?? "");
        throw new Error("version 2 is not supported");
      },
      ...recordingTimers(),
    })));
    assert.equal(error.code, "response-rejected");
    assert.equal(error.status, 200);
    assert.match(error.message, /version 2 is not supported/);
    assert.deepEqual(versions, ["2"]);
  });
});

describe("client: statuses and backoff", { skip: !canServe }, () => {
  after(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("stops for good on 204: the iteration ends and no request follows", async () => {
    const s = await server(() => new Response(null, { status: 204 }));
    const connection = connect(s.url, recordingTimers());
    assert.deepEqual(await collect(connection), []);
    assert.equal(connection.readyState, 2);
    await pause(100);
    assert.equal(s.requests.length, 1);
  });

  it("retries 500s with growing delays, then opens on 200", async () => {
    const s = await server((_r, n) =>
      n <= 4
        ? new Response("database down", { status: 500 })
        : n === 5
        ? sseText("id: 1\ndata: finally\n\n")
        : new Response(null, { status: 204 })
    );
    const { timers, delaysMs } = recordingTimers();
    const connection = connect(s.url, {
      retry: { initialMs: 100, factor: 2, maxMs: 500, jitter: 0 },
      timers,
    });
    const errors: SSEClientError[] = [];
    connection.onerror = (e) => errors.push(e);
    const opened: number[] = [];
    connection.onopen = (response) => opened.push(response.status);
    const messages = await collect(connection);
    assert.deepEqual(messages.map((m) => m.data), ["finally"]);
    // Four 500s, then the stream that ends: the count starts again once a connection opens.
    assert.deepEqual(delaysMs, [100, 200, 400, 500, 100]);
    assert.deepEqual(errors.map((e) => [e.code, e.status]), [
      ["http-status", 500],
      ["http-status", 500],
      ["http-status", 500],
      ["http-status", 500],
      ["stream-ended", undefined],
    ]);
    assert.equal(errors[0].bodyStart, "database down");
    assert.deepEqual(opened, [200]);
  });

  it("takes jitter off the delay with the injected random source", async () => {
    const s = await server((_r, n) =>
      n <= 2 ? new Response("", { status: 503 }) : new Response(null, { status: 204 })
    );
    const { timers, delaysMs } = recordingTimers();
    await collect(connect(s.url, {
      retry: { initialMs: 1000, factor: 3, jitter: 0.5 },
      random: () => 0.5,
      timers,
    }));
    assert.deepEqual(delaysMs, [750, 2250]);
  });

  it("honours Retry-After (seconds) on 503 and 429", async () => {
    const s = await server((_r, n) =>
      n === 1
        ? new Response("busy", { status: 503, headers: { "retry-after": "7" } })
        : n === 2
        ? new Response("slow down", { status: 429, headers: { "retry-after": "2" } })
        : new Response(null, { status: 204 })
    );
    const { timers, delaysMs } = recordingTimers();
    await collect(connect(s.url, { retry: { initialMs: 100, jitter: 0 }, timers }));
    assert.deepEqual(delaysMs, [7000, 2000]);
  });

  it("uses the server's retry: as the new base delay", async () => {
    const s = await server((_r, n) =>
      n === 1
        ? sseText("retry: 40\ndata: a\n\n")
        : n === 2
        ? new Response("", { status: 502 })
        : new Response(null, { status: 204 })
    );
    const { timers, delaysMs } = recordingTimers();
    await collect(connect(s.url, { retry: { initialMs: 5000, factor: 2, jitter: 0 }, timers }));
    assert.deepEqual(delaysMs, [40, 80]);
  });

  it("fails on 404 with the status and the start of the body, without retrying", async () => {
    const s = await server(() =>
      new Response("no such stream: " + "x".repeat(2000), { status: 404 })
    );
    const connection = connect(s.url + "/nope", recordingTimers());
    const error = await rejection(collect(connection));
    assert.equal(error.code, "http-status");
    assert.equal(error.status, 404);
    assert.ok(error.bodyStart?.startsWith("no such stream: xxx"));
    assert.equal(error.bodyStart?.length, 512);
    assert.equal(connection.readyState, 2);
    await pause(50);
    assert.equal(s.requests.length, 1);
  });

  it("fails on a 200 that is not text/event-stream, with bad-content-type", async () => {
    const s = await server(() => Response.json({ error: "login required" }));
    const error = await rejection(collect(connect(s.url, recordingTimers())));
    assert.equal(error.code, "bad-content-type");
    assert.equal(error.status, 200);
    assert.equal(error.bodyStart, '{"error":"login required"}');
  });

  it("gives up with max-retries after maxRetries failures in a row", async () => {
    const s = await server(() => new Response("", { status: 500 }));
    const error = await rejection(collect(connect(s.url, { maxRetries: 2, ...recordingTimers() })));
    assert.equal(error.code, "max-retries");
    assert.equal(error.status, 500);
    assert.equal((error.cause as SSEClientError).code, "http-status");
    assert.equal(s.requests.length, 3);
  });

  it("retries network errors (a port nobody listens on) with the network code", async () => {
    const s = await server(() => new Response(null, { status: 204 }));
    const deadUrl = s.url;
    await s.close();
    const errors: string[] = [];
    const connection = connect(deadUrl, { maxRetries: 2, ...recordingTimers() });
    connection.onerror = (e) => errors.push(e.code);
    const error = await rejection(collect(connection));
    assert.equal(error.code, "max-retries");
    assert.deepEqual(errors, ["network", "network", "max-retries"]);
  });
});

describe("client: idle watchdog", { skip: !canServe }, () => {
  after(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  const idleMs = 300;

  it("reconnects a connection that sends no byte for idleTimeoutMs, resuming after the last id", async () => {
    const streams: ReturnType<typeof sseStream>[] = [];
    const s = await server((_r, n) => {
      if (n === 1) {
        const made = sseStream();
        streams.push(made);
        made.stream.write({ id: "1", data: "one" });
        return made.response; // and then silence
      }
      if (n === 2) return sseText("id: 2\ndata: two\n\n");
      return new Response(null, { status: 204 });
    });
    const { timers, delaysMs } = recordingTimers([idleMs]);
    const connection = connect(s.url, { idleTimeoutMs: idleMs, retry: { jitter: 0 }, timers });
    const errors: string[] = [];
    connection.onerror = (e) => errors.push(e.code);
    const messages = await collect(connection);
    assert.deepEqual(messages.map((m) => m.data), ["one", "two"]);
    assert.deepEqual(errors, ["idle-timeout", "stream-ended"]);
    assert.equal(s.requests[1].headers["last-event-id"], "1");
    assert.deepEqual(delaysMs, [3000, 3000]);
    await streams[0].stream.cancelled; // the dead connection was let go
  });

  it("counts comments as life: a quiet stream with heartbeats is not reconnected", async () => {
    let beats = 0;
    const s = await server((_r, n) => {
      if (n > 1) return new Response(null, { status: 204 });
      const { response, stream } = sseStream();
      const timer = setInterval(() => {
        beats++;
        if (beats < 8) stream.write(": heartbeat\n\n");
        else {
          clearInterval(timer);
          stream.write("data: done\n\n");
          stream.end();
        }
      }, idleMs / 4);
      return response;
    });
    const { timers } = recordingTimers([idleMs]);
    const connection = connect(s.url, { idleTimeoutMs: idleMs, timers });
    const errors: string[] = [];
    connection.onerror = (e) => errors.push(e.code);
    const messages = await collect(connection);
    assert.deepEqual(messages.map((m) => m.data), ["done"]);
    assert.deepEqual(errors, ["stream-ended"]);
  });
});

describe("client: closing", { skip: !canServe }, () => {
  after(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it("close() in a listener mid-chunk dispatches nothing more, even events already received", async () => {
    const s = await server(() => sseText([...Array(10)].map((_, i) => `data: ${i}\n\n`).join("")));
    const source = new EventSource(s.url, recordingTimers());
    const seen: string[] = [];
    let errors = 0;
    source.onerror = () => errors++;
    source.onmessage = (e) => {
      seen.push(e.data);
      if (seen.length === 3) source.close();
    };
    await until(() => source.readyState === EventSource.CLOSED, "close");
    await pause(100);
    assert.deepEqual(seen, ["0", "1", "2"]);
    assert.equal(errors, 0);
    assert.equal(s.requests.length, 1);
  });

  it("close() mid-stream ends the iteration, drops queued messages and releases the request", async () => {
    const { response, stream } = sseStream();
    stream.write({ data: "a" });
    const s = await server(() => response);
    const connection = connect(s.url, recordingTimers());
    const seen: string[] = [];
    for await (const message of connection) {
      seen.push(message.data);
      stream.write("data: b\n\ndata: c\n\n");
      await pause(50); // time for b and c to arrive and be queued
      connection.close();
    }
    assert.deepEqual(seen, ["a"]);
    await stream.cancelled;
    assert.equal(connection.readyState, 2);
  });

  it("an aborted signal closes the connection", async () => {
    const { response, stream } = sseStream();
    const s = await server(() => response);
    const controller = new AbortController();
    const connection = connect(s.url, { signal: controller.signal, ...recordingTimers() });
    stream.write({ data: "first" });
    const seen: string[] = [];
    for await (const message of connection) {
      seen.push(message.data);
      controller.abort();
    }
    assert.deepEqual(seen, ["first"]);
    assert.equal(connection.readyState, 2);
    await stream.cancelled;
  });

  it("a signal aborted before connecting makes no request", async () => {
    const s = await server(() => sseText("data: x\n\n"));
    const connection = connect(s.url, { signal: AbortSignal.abort(), ...recordingTimers() });
    assert.deepEqual(await collect(connection), []);
    await pause(50);
    assert.equal(s.requests.length, 0);
  });

  it("close() during the backoff makes no further request", async () => {
    const s = await server(() => new Response("", { status: 500 }));
    const source = new EventSource(s.url, { retry: { initialMs: 60_000 } });
    await until(() => s.requests.length === 1 && source.readyState === 0, "the first failure");
    await pause(20);
    source.close();
    assert.equal(source.readyState, EventSource.CLOSED);
    await pause(100);
    assert.equal(s.requests.length, 1);
  });

  it("error events carry the SSEClientError, with readyState CONNECTING when a retry follows", async () => {
    const s = await server((_r, n) =>
      n === 1 ? new Response("", { status: 503 }) : new Response("gone", { status: 410 })
    );
    const source = new EventSource(s.url, recordingTimers());
    const seen: [string, number | undefined, number][] = [];
    source.onerror = (e) => {
      assert.ok(e instanceof SSEClientErrorEvent);
      seen.push([e.error.code, e.error.status, source.readyState]);
    };
    await until(() => source.readyState === 2, "the 410");
    assert.deepEqual(seen, [["http-status", 503, 0], ["http-status", 410, 2]]);
  });
});
