import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser, DEFAULT_MAX_EVENT_BYTES } from "../src/protocol/parser.ts";
import { SSEParseError } from "../src/protocol/parse_errors.ts";
import type { SSEMessage } from "../src/protocol/types.ts";

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
    parser.reset();
    refusal(() => parser.feed("data: " + "x".repeat(1024 * 1024 + 3)), "line-too-long");
  });

  it("errors on a line that grows past the limit without a line ending, chunk by chunk", () => {
    const { parser } = collecting(100);
    parser.feed("data: ");
    for (let i = 0; i < 10; i++) parser.feed("0123456789"); // 106 bytes: within 100 + 8
    refusal(() => parser.feed("012"), "line-too-long");
  });

  it("errors on a long line of any field, not only data", () => {
    for (const line of [": " + "c".repeat(200), "event: " + "e".repeat(200), "x".repeat(200)]) {
      const { parser } = collecting(100);
      refusal(() => parser.feed(line + "\n"), "line-too-long");
    }
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

  it("counts a surrogate pair split between text chunks as its 4 bytes", () => {
    // maxEventBytes 10: a line may be 18 bytes. "data: " + 3 foxes = 6 + 12 = 18.
    const { events, parser } = collecting(10);
    parser.feed("data: 🦊🦊\uD83E");
    parser.feed("\uDD8A"); // 18 bytes: a pair, not two lone halves (which would be 20)
    refusal(() => parser.feed("\n\n"), "event-too-large"); // 12 bytes of data
    const fits = collecting(12);
    fits.parser.feed("data: 🦊🦊\uD83E");
    fits.parser.feed("\uDD8A\n\n");
    assert.deepEqual(fits.events.map((e) => e.data), ["🦊🦊🦊"]);
    assert.equal(events.length, 0);
    const long = collecting(10);
    long.parser.feed("data: 🦊🦊\uD83E");
    refusal(() => long.parser.feed("\uDD8A!"), "line-too-long"); // 19 bytes
  });

  it("counts a line that arrives in many chunks exactly, to the byte", () => {
    const { events, parser } = collecting(300);
    parser.feed("data: ");
    for (let i = 0; i < 100; i++) parser.feed("€"); // 6 + 300 bytes: within 300 + 8
    parser.feed("\n\n");
    assert.equal(events[0].data, "€".repeat(100));
    parser.feed("data: ");
    for (let i = 0; i < 100; i++) parser.feed("€");
    parser.feed("ab");
    refusal(() => parser.feed("c"), "line-too-long"); // 6 + 303 bytes
  });

  it("counts an event's data line by line exactly, to the byte", () => {
    const { events, parser } = collecting(1000);
    // 100 lines of 9 bytes joined by 99 LFs: 999 bytes; one more LF and "x" make 1001.
    parser.feed("data: abcd€ef\n".repeat(100) + "\n");
    assert.equal(events.length, 1);
    assert.equal(new TextEncoder().encode(events[0].data).length, 999);
    parser.feed("data: abcd€ef\n".repeat(100) + "data:\n\n");
    assert.equal(new TextEncoder().encode(events[1].data).length, 1000);
    refusal(() => parser.feed("data: abcd€ef\n".repeat(100) + "data:x\n\n"), "event-too-large");
  });

  it("data lines of one chunk past the limit are refused before the next line is read", () => {
    // Lines short enough to be read without measuring (3 x 10 units <= 22 + 8), five of them:
    // 24 bytes of data. Each kind of line that can follow the fifth: its callback must not run.
    for (const next of [": comment", "retry: 5", "id: 7", "event: x", "", "data: more"]) {
      const seen: string[] = [];
      const parser = createParser({
        onEvent: (m) => seen.push("event " + m.data),
        onComment: (text) => seen.push("comment " + text),
        onRetry: (ms) => seen.push("retry " + ms),
        maxEventBytes: 22,
      });
      refusal(() => parser.feed("data: abcd\n".repeat(5) + next + "\n\n"), "event-too-large");
      assert.deepEqual(seen, [], `followed by ${JSON.stringify(next)}`);
      assert.equal(parser.lastEventId, "", `followed by ${JSON.stringify(next)}`);
    }
  });

  it("a line past the limit does not smuggle its tail as a new field", () => {
    const { events, parser } = collecting(1000);
    refusal(() => parser.feed("data: " + "A".repeat(1100)), "line-too-long");
    refusal(() => parser.feed("data: smuggled\n\n"), "line-too-long");
    assert.deepEqual(events, []);
  });

  it("a line past the limit in one chunk does not let the rest of the chunk through", () => {
    const { events, parser } = collecting(1000);
    refusal(
      () => parser.feed("data: " + "A".repeat(1100) + "\ndata: smuggled\n\n"),
      "line-too-long",
    );
    refusal(() => parser.feed("data: next\n\n"), "line-too-long");
    assert.deepEqual(events, []);
  });

  it("an event past the limit does not let its later lines through as an event", () => {
    const { events, parser } = collecting(20);
    parser.feed("data: 0123456789\n");
    refusal(() => parser.feed("data: 0123456789\ndata: tail\n\n"), "event-too-large");
    refusal(() => parser.feed("data: tail\n\n"), "event-too-large");
    assert.deepEqual(events, []);
  });

  it("stays failed after an error: every feed throws the same error until reset()", () => {
    const { events, parser } = collecting(20);
    parser.feed("id: 1\ndata: ok\n\n");
    let first: unknown;
    try {
      parser.feed("data: " + "y".repeat(40));
    } catch (error) {
      first = error;
    }
    assert.ok(first instanceof SSEParseError);
    assert.throws(() => parser.feed("\n\ndata: after\n\n"), (error) => error === first);
    assert.throws(() => parser.feed(new Uint8Array([10, 10])), (error) => error === first);
    parser.reset();
    parser.feed("data: after reset\n\n");
    assert.deepEqual(events.map((e) => e.data), ["ok", "after reset"]);
    assert.equal(events[1].lastEventId, "1", "reset() keeps the last event ID");
  });

  it("refuses at the same point and with the same code whatever the chunking", () => {
    // The second event's two data lines are 45 bytes each (lines of 51, within 64 + 8): 91 bytes.
    const big = "data: " + "€".repeat(15) + "\n";
    const wire = "data: a\n\nevent: x\n" + big + big + "data: b\n\ndata: c\n\n";
    const bytes = new TextEncoder().encode(wire);
    for (let split = 0; split <= bytes.length; split++) {
      const { events, parser } = collecting(64);
      const codes: string[] = [];
      for (const chunk of [bytes.subarray(0, split), bytes.subarray(split)]) {
        try {
          parser.feed(chunk);
        } catch (error) {
          codes.push((error as SSEParseError).code);
        }
      }
      assert.deepEqual(events.map((e) => e.data), ["a"], `split at ${split}`);
      assert.equal(codes[0], "event-too-large", `split at ${split}`);
    }
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
