import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeComment, encodeEvent } from "../src/protocol/encode.ts";
import { SSEEncodeError } from "../src/protocol/encode_errors.ts";
import type { SSEEvent } from "../src/protocol/types.ts";

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

/** A value that throws whatever is done to it: every Proxy trap throws. */
function hostileProxy(): object {
  const thrower = () => {
    throw new Error("trap");
  };
  return new Proxy({}, {
    get: thrower,
    has: thrower,
    ownKeys: thrower,
    getOwnPropertyDescriptor: thrower,
    getPrototypeOf: thrower,
  });
}

describe("encodeEvent refuses hostile input with SSEEncodeError only", () => {
  it("throws invalid-event-object for null, undefined and values that are not objects", () => {
    for (const value of [null, undefined, 42, "data: x", true, 10n, Symbol("s"), () => 1]) {
      refusal(() => encodeEvent(value as unknown as SSEEvent), "invalid-event-object");
    }
  });

  it("throws invalid-event-object when a getter on the event throws, for every field", () => {
    for (const field of ["data", "event", "id", "retry", "comment"]) {
      const event = Object.defineProperty({}, field, {
        get() {
          throw new TypeError(`no ${field}`);
        },
      });
      refusal(() => encodeEvent(event), "invalid-event-object");
    }
  });

  it("throws invalid-event-object for a Proxy whose traps throw, or a revoked Proxy", () => {
    refusal(() => encodeEvent(hostileProxy() as SSEEvent), "invalid-event-object");
    const { proxy, revoke } = Proxy.revocable({ data: "x" }, {});
    revoke();
    refusal(() => encodeEvent(proxy as SSEEvent), "invalid-event-object");
  });

  it("survives a getter that throws something hostile, and keeps no hostile cause", () => {
    for (const thrown of [hostileProxy(), Symbol("boom"), null, "text"]) {
      const event = Object.defineProperty({}, "data", {
        get() {
          throw thrown;
        },
      });
      assert.throws(() => encodeEvent(event), (error: unknown) => {
        assert.ok(error instanceof SSEEncodeError);
        assert.equal(error.code, "invalid-event-object");
        assert.equal(error.cause, undefined, "a hostile value is described, not kept");
        return true;
      });
    }
  });

  it("reads each field once, so a getter can't change a value after it was checked", () => {
    let reads = 0;
    const event = {
      get event() {
        reads++;
        return reads === 1 ? "safe" : "evil\ndata: injected";
      },
    };
    assert.equal(encodeEvent(event), "event: safe\n\n");
    assert.equal(reads, 1);
  });

  it("throws unserializable-data when toJSON throws, even something hostile", () => {
    const error = new Error("toJSON failed");
    refusal(() =>
      encodeEvent({
        data: {
          toJSON() {
            throw error;
          },
        },
      }), "unserializable-data");
    for (const thrown of [hostileProxy(), Symbol("x")]) {
      refusal(() =>
        encodeEvent({
          data: {
            toJSON() {
              throw thrown;
            },
          },
        }), "unserializable-data");
    }
    refusal(() => encodeEvent({ data: { nested: hostileProxy() } }), "unserializable-data");
  });

  it("throws unserializable-data for BigInts and cycles at any depth", () => {
    const cyclic: unknown[] = [];
    cyclic.push({ a: [cyclic] });
    refusal(() => encodeEvent({ data: { deep: [{ n: 1n }] } }), "unserializable-data");
    refusal(() => encodeEvent({ data: cyclic }), "unserializable-data");
  });

  it("gives JSON or unserializable-data for data nested a million deep, never a stack overflow", () => {
    const depth = 1_000_000;
    let deep: unknown[] = [];
    for (let i = 0; i < depth; i++) deep = [deep];
    // V8 serialises this without recursing on the native stack; JavaScriptCore runs out of it.
    let text: string | undefined;
    try {
      text = encodeEvent({ data: deep });
    } catch (error) {
      assert.ok(error instanceof SSEEncodeError, `an SSEEncodeError, not ${error}`);
      assert.equal(error.code, "unserializable-data");
      assert.match(error.message, /nested too deeply/);
    }
    if (text !== undefined) {
      assert.equal(text, "data: " + "[".repeat(depth + 1) + "]".repeat(depth + 1) + "\n\n");
    }
  });

  it("describes a refused retry, id or name without calling into it", () => {
    const hostile = {
      toString() {
        throw new Error("toString");
      },
      [Symbol.toPrimitive]() {
        throw new Error("toPrimitive");
      },
    };
    refusal(() => encodeEvent({ retry: hostile as unknown as number }), "invalid-retry");
    refusal(() => encodeEvent({ retry: Symbol("r") as unknown as number }), "invalid-retry");
    refusal(() => encodeEvent({ id: hostile as unknown as string }), "invalid-id");
    refusal(() => encodeEvent({ event: hostileProxy() as unknown as string }), "invalid-event");
    refusal(() => encodeEvent({ comment: hostile as unknown as string }), "invalid-comment");
  });
});

describe("encodeComment refuses what is not a string", () => {
  it("throws invalid-comment for a number, a symbol, null or an object", () => {
    for (const value of [42, Symbol("c"), null, {}, hostileProxy()]) {
      refusal(() => encodeComment(value as unknown as string), "invalid-comment");
    }
  });
});
