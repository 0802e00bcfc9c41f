import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeComment, encodeEvent, SSEEncodeError } from "../mod.ts";

function refusal(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SSEEncodeError, "an SSEEncodeError");
    assert.equal(error.code, code);
    assert.ok(error.message.length > 20, "a message that says what to do");
    return true;
  });
}

describe("encodeEvent", () => {
  it("writes string data verbatim with the space after the colon", () => {
    assert.equal(encodeEvent({ data: "hello" }), "data: hello\n\n");
  });
  it("keeps a leading space of the payload", () => {
    assert.equal(encodeEvent({ data: " x" }), "data:  x\n\n");
  });
  it("splits data on CR, LF and CRLF into one data line each", () => {
    assert.equal(encodeEvent({ data: "a\r\nb\rc\nd" }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  });
  it("writes a trailing line break as an empty data line", () => {
    assert.equal(encodeEvent({ data: "a\n" }), "data: a\ndata: \n\n");
  });
  it("writes empty string data as one empty data line", () => {
    assert.equal(encodeEvent({ data: "" }), "data: \n\n");
  });
  it("serialises any non-string value as JSON", () => {
    assert.equal(encodeEvent({ data: { a: [1, "x\ny"] } }), 'data: {"a":[1,"x\\ny"]}\n\n');
    assert.equal(encodeEvent({ data: 42 }), "data: 42\n\n");
    assert.equal(encodeEvent({ data: null }), "data: null\n\n");
  });
  it("writes event, id and retry fields", () => {
    assert.equal(
      encodeEvent({ event: "tick", id: "7", retry: 1500, data: "x" }),
      "event: tick\nid: 7\nretry: 1500\ndata: x\n\n",
    );
  });
  it('writes id: "" so the client resets its last event id', () => {
    assert.equal(encodeEvent({ id: "" }), "id: \n\n");
  });
  it("writes comments one line each", () => {
    assert.equal(encodeEvent({ comment: "a\nb" }), ": a\n: b\n\n");
    assert.equal(encodeComment(), ":\n\n");
    assert.equal(encodeComment("ping"), ": ping\n\n");
  });
  it("ends every message with a blank line", () => {
    assert.equal(encodeEvent({}), "\n");
  });
});

describe("encodeEvent refuses unsafe input", () => {
  it("throws if `event` contains a newline", () => {
    refusal(() => encodeEvent({ event: "a\nb", data: "x" }), "invalid-event");
    refusal(() => encodeEvent({ event: "a\rdata: evil", data: "x" }), "invalid-event");
  });
  it("throws if `id` contains CR, LF or NUL", () => {
    refusal(() => encodeEvent({ id: "1\n", data: "x" }), "invalid-id");
    refusal(() => encodeEvent({ id: "1\r", data: "x" }), "invalid-id");
    refusal(() => encodeEvent({ id: "1\0", data: "x" }), "invalid-id");
  });
  it("throws if `retry` is not a non-negative integer", () => {
    for (const retry of [-1, 1.5, NaN, Infinity, "10" as unknown as number]) {
      refusal(() => encodeEvent({ retry, data: "x" }), "invalid-retry");
    }
  });
  it("throws if data can't be serialised", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    refusal(() => encodeEvent({ data: cyclic }), "unserializable-data");
    refusal(() => encodeEvent({ data: 10n }), "unserializable-data");
    refusal(() => encodeEvent({ data: () => 1 }), "unserializable-data");
  });
});
