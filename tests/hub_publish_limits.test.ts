// What hub.publish refuses before anything is stored: events too large as written (name, data and
// the hub's id), long or unprintable event names, the hub's own `herald.` names, hostile objects.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHub } from "../src/hub/hub.ts";
import { MemoryBroker } from "../src/hub/memory_broker.ts";
import { HubEventError, type HubEventErrorCode } from "../src/hub/errors.ts";
import type { HubEvent } from "../src/hub/broker.ts";
import { validateHubEvents } from "../src/hub/publish_validation.ts";
import {
  DEFAULT_MAX_HUB_EVENT_BYTES,
  HUB_ID_LINE_BYTES,
  MAX_HUB_EVENT_NAME_BYTES,
} from "../src/hub/event_limits.ts";
import { createParser, DEFAULT_MAX_EVENT_BYTES } from "../src/protocol/parser.ts";
import { encodeEvent } from "../src/protocol/encode.ts";
import type { SSEMessage } from "../src/protocol/types.ts";

function setup() {
  const broker = new MemoryBroker();
  return { broker, hub: createHub({ broker }) };
}

/** Whether the topic holds no entry at all. */
async function storedCount(broker: MemoryBroker, topic: string): Promise<number> {
  const read = await broker.read([{ topic, after: "0-0" }], 100);
  return read.topics[0].entries.length;
}

async function refusedAtPublish(
  events: HubEvent | HubEvent[],
  code: HubEventErrorCode,
): Promise<HubEventError> {
  const { broker, hub } = setup();
  let refusal: unknown;
  await hub.publish("t", events).then(
    () => assert.fail("the publish was accepted"),
    (error) => (refusal = error),
  );
  assert.ok(refusal instanceof HubEventError, `a HubEventError, got ${refusal}`);
  assert.equal(refusal.code, code, refusal.message);
  assert.ok(refusal.message.length > 30, "a message that says what to do");
  assert.equal(await storedCount(broker, "t"), 0, "nothing is stored");
  return refusal;
}

function refusedByValidation(fn: () => unknown, code: HubEventErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HubEventError, `a HubEventError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Data of `bytes` ASCII characters, so that `{ data }` is written as `bytes + 8` bytes. */
const dataOf = (bytes: number) => "x".repeat(bytes);

describe("hub.publish bounds the event as written", () => {
  it("an event name of 5 MiB is refused and nothing is stored", async () => {
    await refusedAtPublish(
      { event: "E".repeat(5 * 1024 * 1024), data: "small" },
      "invalid-event-name",
    );
  });

  it("accepts an event of exactly the limit as written (with the id line) and refuses one more byte", async () => {
    const { broker, hub } = setup();
    const room = DEFAULT_MAX_HUB_EVENT_BYTES - HUB_ID_LINE_BYTES - "data: \n\n".length;
    await hub.publish("t", { data: dataOf(room) });
    assert.equal(await storedCount(broker, "t"), 1);
    await refusedAtPublish({ data: dataOf(room + 1) }, "event-too-large");
  });

  it("counts the name, every data line's prefix and UTF-8 bytes, not only the data's characters", () => {
    const max = 4096;
    const room = max - HUB_ID_LINE_BYTES;
    // "event: n\n" is 9 bytes: data that would fit alone does not fit with it.
    validateHubEvents({ data: dataOf(room - 8) }, max);
    refusedByValidation(
      () => validateHubEvents({ event: "n", data: dataOf(room - 8) }, max),
      "event-too-large",
    );
    // Each LF in the data becomes a line of its own with its own "data: " (7 bytes per line).
    const lines = Math.floor((room - 2) / 7);
    validateHubEvents({ data: "\n".repeat(lines - 1) }, max);
    refusedByValidation(
      () => validateHubEvents({ data: "\n".repeat(lines) }, max),
      "event-too-large",
    );
    // A euro sign is 3 bytes.
    const euros = Math.floor((room - 8) / 3);
    validateHubEvents({ data: "€".repeat(euros) }, max);
    refusedByValidation(
      () => validateHubEvents({ data: "€".repeat(euros + 1) }, max),
      "event-too-large",
    );
  });

  it("counts JSON data as its JSON text", () => {
    const max = 4096;
    const room = max - HUB_ID_LINE_BYTES - "data: \n\n".length;
    const fits = { text: "y".repeat(room - '{"text":""}'.length) };
    validateHubEvents({ data: fits }, max);
    refusedByValidation(
      () => validateHubEvents({ data: { ...fits, more: 1 } }, max),
      "event-too-large",
    );
  });

  it("a million-deep JSON array as data gives a typed error, never a stack overflow", async () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    const { broker, hub } = setup();
    const refusal = await hub.publish("t", { data: deep }).then(() => undefined, (error) => error);
    assert.ok(refusal instanceof HubEventError, `a HubEventError, got ${refusal}`);
    // V8 writes its JSON (2 MB: too large); JavaScriptCore runs out of stack (no JSON form).
    assert.ok(["event-too-large", "invalid-event"].includes(refusal.code), refusal.code);
    assert.match(refusal.message, /maxEventBytes|nested too deeply/);
    assert.equal(await storedCount(broker, "t"), 0);
  });

  it("one event too large in a batch refuses the whole batch", async () => {
    await refusedAtPublish(
      [{ data: "a" }, { data: dataOf(DEFAULT_MAX_HUB_EVENT_BYTES) }, { data: "c" }],
      "event-too-large",
    );
  });

  it("every event it accepts, with the id the hub gives it, parses under a client's default limit", async () => {
    assert.equal(DEFAULT_MAX_HUB_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES);
    const { hub } = setup();
    const name = "n".repeat(MAX_HUB_EVENT_NAME_BYTES);
    const room = DEFAULT_MAX_HUB_EVENT_BYTES - HUB_ID_LINE_BYTES -
      `event: ${name}\ndata: \n\n`.length;
    const topics = Array.from({ length: 32 }, (_, i) => `topic-${i}`);
    const signed = createHub({ broker: new MemoryBroker(), cursorSecret: "s".repeat(32) });
    for (const which of [hub, signed]) {
      const stream = await which.subscribe({ topics });
      const reader = stream.getReader();
      await reader.read(); // the starting cursor
      await which.publish(topics[31], { event: name, data: dataOf(room) });
      const { value } = await reader.read();
      await reader.cancel();
      const wire = encodeEvent(value!);
      assert.ok(wire.length <= DEFAULT_MAX_EVENT_BYTES, `${wire.length} bytes as written`);
      const seen: SSEMessage[] = [];
      createParser({ onEvent: (m) => seen.push(m) }).feed(wire);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].data.length, room);
    }
  });
});

describe("hub.publish refuses event names a client would misread, and the hub's own", () => {
  it("accepts a name of 256 bytes and refuses 257, counted in UTF-8", () => {
    validateHubEvents({ event: "n".repeat(256), data: "x" });
    refusedByValidation(
      () => validateHubEvents({ event: "n".repeat(257), data: "x" }),
      "invalid-event-name",
    );
    validateHubEvents({ event: "€".repeat(85), data: "x" }); // 255 bytes
    refusedByValidation(
      () => validateHubEvents({ event: "€".repeat(86), data: "x" }),
      "invalid-event-name",
    );
  });

  it("refuses NUL, CR, LF, TAB and every other C0 control, DEL and C1 controls", async () => {
    const controls = [0, 9, 10, 13, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f];
    for (const code of controls) {
      await refusedAtPublish(
        { event: `a${String.fromCharCode(code)}b`, data: "x" },
        "invalid-event-name",
      );
    }
    for (let code = 0; code < 0x20; code++) {
      refusedByValidation(
        () => validateHubEvents({ event: String.fromCharCode(code), data: "x" }),
        "invalid-event-name",
      );
    }
  });

  it("refuses a lone surrogate, accepts printable Unicode", () => {
    refusedByValidation(
      () => validateHubEvents({ event: "a\uD83Db", data: "x" }),
      "invalid-event-name",
    );
    refusedByValidation(
      () => validateHubEvents({ event: "\uDE00", data: "x" }),
      "invalid-event-name",
    );
    const accepted = validateHubEvents([
      { event: "price.update", data: "x" },
      { event: "naïve 🦊 \u00A0", data: "x" },
      { event: "", data: "x" },
    ]);
    assert.equal(accepted.length, 3);
  });

  it("refuses a name that is not a string", () => {
    for (const event of [1, null, {}, ["a"]]) {
      refusedByValidation(
        () => validateHubEvents({ event: event as unknown as string, data: "x" }),
        "invalid-event-name",
      );
    }
  });

  it("a publisher can't forge herald.history-lost or herald.end", async () => {
    for (const event of ["herald.history-lost", "herald.end", "herald.", "herald.anything"]) {
      await refusedAtPublish({ event, data: '{"reason":"trimmed"}' }, "reserved-event-name");
    }
    validateHubEvents([{ event: "heraldry", data: "x" }, { event: "my.herald.end", data: "x" }]);
  });
});

describe("hub.publish refuses hostile objects with HubEventError only", () => {
  it("refuses a throwing getter, a Proxy whose traps throw, and a revoked Proxy", async () => {
    const getter = Object.defineProperty({}, "data", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    });
    const thrower = () => {
      throw new Error("trap");
    };
    const proxy = new Proxy({}, { ownKeys: thrower, get: thrower });
    const { proxy: revoked, revoke } = Proxy.revocable([{ data: "x" }], {});
    revoke();
    for (const input of [getter, proxy, revoked]) {
      await refusedAtPublish(input as HubEvent, "invalid-event");
    }
  });

  it("refuses null, strings and unknown fields", async () => {
    await refusedAtPublish([null as unknown as HubEvent], "invalid-event");
    await refusedAtPublish("data: x" as unknown as HubEvent, "invalid-event");
    await refusedAtPublish({ data: "x", id: "1" } as HubEvent, "invalid-event");
    await refusedAtPublish([], "empty-publish");
  });

  it("reads each field once and stores its own copy, so a getter can't swap a checked value", () => {
    let reads = 0;
    const sneaky = {
      get event() {
        reads++;
        return reads === 1 ? "safe" : "herald.end";
      },
      data: "x",
    };
    const [event] = validateHubEvents(sneaky);
    assert.equal(reads, 1);
    assert.deepEqual(event, { event: "safe", data: "x" });
    assert.notEqual(event, sneaky as HubEvent);
  });

  it("refuses a maxEventBytes that is not an integer with room for the id line", () => {
    for (const max of [NaN, 1.5, -1, 100, Infinity]) {
      assert.throws(() => validateHubEvents({ data: "x" }, max), RangeError);
    }
  });
});
