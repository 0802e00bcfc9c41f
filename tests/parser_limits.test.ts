import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser, DEFAULT_MAX_EVENT_BYTES, type SSEMessage, SSEParseError } from "../mod.ts";

function collecting(maxEventBytes?: number) {
  const events: SSEMessage[] = [];
  const parser = createParser({ onEvent: (m) => events.push(m), maxEventBytes });
  return { events, parser };
}

function refusal(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SSEParseError);
    assert.equal(error.code, code);
    assert.match(error.message, /maxEventBytes/);
    return true;
  });
}

describe("parser: maxEventBytes bounds memory", () => {
  it("defaults to 1 MiB", () => {
    assert.equal(DEFAULT_MAX_EVENT_BYTES, 1024 * 1024);
    const { events, parser } = collecting();
    parser.feed("data: " + "x".repeat(1024 * 1024 - 6) + "\n\n");
    assert.equal(events.length, 1);
    refusal(() => parser.feed("data: " + "x".repeat(1024 * 1024 + 1) + "\n\n"), "event-too-large");
    refusal(() => parser.feed("data: " + "x".repeat(1024 * 1024 + 3)), "line-too-long");
  });

  it("errors on a line that grows past the limit without a line ending, chunk by chunk", () => {
    const { parser } = collecting(100);
    parser.feed("data: ");
    for (let i = 0; i < 10; i++) parser.feed("0123456789"); // 106 bytes: within 100 + 8
    refusal(() => parser.feed("012"), "line-too-long");
  });

  it("errors on a long line of any field, not only data", () => {
    const { parser } = collecting(100);
    refusal(() => parser.feed(": " + "c".repeat(200) + "\n"), "line-too-long");
    refusal(() => parser.feed("event: " + "e".repeat(200) + "\n"), "line-too-long");
  });

  it("errors on an event whose data lines add up past the limit", () => {
    const { events, parser } = collecting(100);
    for (let i = 0; i < 9; i++) parser.feed("data: 0123456789\n");
    refusal(() => parser.feed("data: 0123456789\n"), "event-too-large");
    assert.equal(events.length, 0);
  });

  it("accepts an event of exactly the limit", () => {
    const { events, parser } = collecting(10);
    parser.feed("data:0123456789\n\n");
    assert.equal(events[0].data, "0123456789");
  });

  it("counts UTF-8 bytes, not characters", () => {
    const { events, parser } = collecting(12);
    parser.feed("data:€€€€\n\n"); // 12 bytes of data
    assert.equal(events.length, 1);
    refusal(() => parser.feed("data:€€€€€\n\n"), "event-too-large");
  });

  it("loses nothing else: after an oversized event the next events parse", () => {
    const { events, parser } = collecting(20);
    parser.feed("id: 1\ndata: ok\n\n");
    refusal(() => parser.feed("data: " + "y".repeat(40)), "line-too-long");
    parser.feed("\n\ndata: after\n\n");
    assert.deepEqual(events.map((e) => e.data), ["ok", "after"]);
    assert.equal(events[1].lastEventId, "1");
  });

  it("rejects a limit that is not a positive integer", () => {
    assert.throws(() => createParser({ onEvent() {}, maxEventBytes: 0 }), RangeError);
    assert.throws(() => createParser({ onEvent() {}, maxEventBytes: 1.5 }), RangeError);
  });
});

describe("parser: dispatch and state", () => {
  it("emits an event as soon as its blank line arrives", () => {
    const { events, parser } = collecting();
    parser.feed("data: a\n");
    assert.equal(events.length, 0);
    parser.feed("\n");
    assert.equal(events.length, 1);
  });

  it("waits for the LF after a CR at the end of a chunk without holding the event back", () => {
    const { events, parser } = collecting();
    parser.feed("data: a\r\n\r");
    assert.equal(events.length, 1);
    parser.feed("\ndata: b\r\n\r\n");
    assert.deepEqual(events.map((e) => e.data), ["a", "b"]);
  });

  it("reset() discards the partial event and keeps the last event ID", () => {
    const { events, parser } = collecting();
    parser.feed("id: 5\ndata: a\n\ndata: partial");
    parser.reset();
    parser.feed("data: b\n\n");
    assert.deepEqual(events.map((e) => [e.data, e.lastEventId]), [["a", "5"], ["b", "5"]]);
  });

  it("reset({ lastEventId }) sets the last event ID; a new stream strips its own BOM", () => {
    const { events, parser } = collecting();
    parser.feed("\uFEFFdata: a\n\n");
    parser.reset({ lastEventId: "x" });
    parser.feed("\uFEFFdata: b\n\n");
    assert.deepEqual(events.map((e) => [e.data, e.lastEventId]), [["a", ""], ["b", "x"]]);
  });

  it("starts from the lastEventId option", () => {
    const events: SSEMessage[] = [];
    const parser = createParser({ onEvent: (m) => events.push(m), lastEventId: "42" });
    assert.equal(parser.lastEventId, "42");
    parser.feed("data: a\n\n");
    assert.equal(events[0].lastEventId, "42");
  });

  it("passes valid retry values to onRetry and ignores invalid ones", () => {
    const retries: number[] = [];
    const parser = createParser({ onEvent() {}, onRetry: (ms) => retries.push(ms) });
    parser.feed("retry: 10\nretry: x\nretry: 007\nretry:  5\n\n");
    assert.deepEqual(retries, [10, 7]);
  });
});
