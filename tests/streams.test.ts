import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  encodeEvent,
  SSEEncodeError,
  SSEEncoderStream,
  type SSEEvent,
  type SSEMessage,
  SSEParseError,
  SSEParserStream,
} from "../mod.ts";
import { PARSE_VECTORS } from "./support/parse_vectors.ts";

function streamOf<T>(chunks: T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

describe("SSEParserStream", () => {
  it("parses every vector fed as bytes in small chunks", async () => {
    for (const vector of PARSE_VECTORS) {
      const bytes = typeof vector.input === "string"
        ? new TextEncoder().encode(vector.input)
        : vector.input;
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
      const events = await collect(streamOf(chunks).pipeThrough(new SSEParserStream()));
      assert.deepEqual(
        events,
        vector.events.map((e) => ({
          event: e.event,
          data: e.data,
          id: e.id,
          lastEventId: e.lastEventId,
        })),
        vector.name,
      );
    }
  });

  it("takes string chunks and strips exactly one leading BOM", async () => {
    const events = await collect(
      streamOf(["\uFEFF", "data: a\n\n\uFEFF", "data: b\n\n"]).pipeThrough(new SSEParserStream()),
    );
    assert.deepEqual(events.map((e) => e.data), ["a"]);
  });

  it("emits an event as soon as its blank line arrives, before the input ends", async () => {
    const parser = new SSEParserStream();
    const writer = parser.writable.getWriter();
    const reader = parser.readable.getReader();
    void writer.write(new TextEncoder().encode("data: first\n\n"));
    const first = await reader.read();
    assert.equal(first.value?.data, "first");
    void writer.write("data: unfinished");
    void writer.close();
    assert.equal((await reader.read()).done, true, "an event without its blank line is discarded");
  });

  it("reports retry and comments through its options and tracks lastEventId", async () => {
    const retries: number[] = [];
    const comments: string[] = [];
    const parser = new SSEParserStream({
      onRetry: (ms) => retries.push(ms),
      onComment: (text) => comments.push(text),
    });
    const events = await collect(
      streamOf(["retry: 250\n: hi\nid: 4\ndata: x\n\nid: 5\n\n"]).pipeThrough(parser),
    );
    assert.deepEqual(retries, [250]);
    assert.deepEqual(comments, ["hi"]);
    assert.equal(events.length, 1);
    assert.equal(parser.lastEventId, "5");
  });

  it("errors the stream with SSEParseError when a line outgrows maxEventBytes", async () => {
    const stream = streamOf(["data: ", "x".repeat(64), "x".repeat(64)])
      .pipeThrough(new SSEParserStream({ maxEventBytes: 100 }));
    await assert.rejects(collect(stream), (error: unknown) => {
      assert.ok(error instanceof SSEParseError);
      assert.equal(error.code, "line-too-long");
      return true;
    });
  });
  it("a line past the limit errors the stream and does not smuggle its tail as an event", async () => {
    const seen: string[] = [];
    const stream = streamOf(["data: ok\n\ndata: ", "A".repeat(1100), "data: smuggled\n\n"])
      .pipeThrough(new SSEParserStream({ maxEventBytes: 1000 }));
    const reader = stream.getReader();
    await assert.rejects(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          seen.push(value.data);
        }
      })(),
      (error: unknown) => error instanceof SSEParseError && error.code === "line-too-long",
    );
    assert.deepEqual(seen, ["ok"]);
  });
});

describe("SSEEncoderStream", () => {
  it("writes UTF-8 bytes that SSEParserStream reads back as the same events", async () => {
    const input: SSEEvent[] = [
      { event: "a", id: "1", data: " lead\r\nline2" },
      { data: { json: ["€", 1] } },
      { id: "", data: "" },
      { comment: "keep-alive" },
      { retry: 1000 },
    ];
    const messages: SSEMessage[] = await collect(
      streamOf(input).pipeThrough(new SSEEncoderStream()).pipeThrough(new SSEParserStream()),
    );
    assert.deepEqual(messages, [
      { event: "a", data: " lead\nline2", id: "1", lastEventId: "1" },
      { event: "message", data: '{"json":["€",1]}', id: undefined, lastEventId: "1" },
      { event: "message", data: "", id: "", lastEventId: "" },
    ]);
  });

  it("writes exactly the bytes of encodeEvent", async () => {
    const input: SSEEvent[] = [{ event: "x", data: "1\n2" }, { comment: "c" }];
    const bytes = await collect(streamOf(input).pipeThrough(new SSEEncoderStream()));
    const text = bytes.map((b) => new TextDecoder().decode(b)).join("");
    assert.equal(text, input.map(encodeEvent).join(""));
  });

  it("errors with SSEEncodeError for an event with a newline in its name, writing none of it", async () => {
    const input: SSEEvent[] = [{ data: "ok" }, { event: "a\nb", data: "evil" }];
    const chunks: string[] = [];
    const reader = streamOf(input).pipeThrough(new SSEEncoderStream()).getReader();
    const error = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return undefined;
          chunks.push(new TextDecoder().decode(value));
        }
      } catch (error) {
        return error;
      }
    })();
    assert.ok(error instanceof SSEEncodeError);
    assert.equal(error.code, "invalid-event");
    assert.deepEqual(chunks, ["data: ok\n\n"]);
  });

  it("errors with SSEEncodeError for null or a hostile event, writing none of it", async () => {
    const throwing = Object.defineProperty({}, "data", {
      get() {
        throw new Error("getter");
      },
    });
    for (const bad of [null, undefined, 7, throwing]) {
      const input = [{ data: "ok" }, bad as unknown as SSEEvent, { data: "after" }];
      const chunks: string[] = [];
      const reader = streamOf(input).pipeThrough(new SSEEncoderStream()).getReader();
      const error = await (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return undefined;
            chunks.push(new TextDecoder().decode(value));
          }
        } catch (error) {
          return error;
        }
      })();
      assert.ok(error instanceof SSEEncodeError, `an SSEEncodeError for ${String(bad)}`);
      assert.equal(error.code, "invalid-event-object");
      assert.deepEqual(chunks, ["data: ok\n\n"]);
    }
  });
});
