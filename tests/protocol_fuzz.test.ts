// Seeded fuzzing of the wire format: random bytes and chunkings into the parser, compared with the
// reference parser (tests/support/reference_parser.ts); random hostile values into the encoder and
// the hub's publish validation, from which only their typed errors may come. Bounded in count;
// a failure names its seed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser } from "../src/protocol/parser.ts";
import { SSEParserStream } from "../src/protocol/parser_stream.ts";
import { SSEParseError } from "../src/protocol/parse_errors.ts";
import { encodeComment, encodeEvent } from "../src/protocol/encode.ts";
import { SSEEncodeError, type SSEEncodeErrorCode } from "../src/protocol/encode_errors.ts";
import { SSEEncoderStream } from "../src/protocol/encoder_stream.ts";
import type { SSEEvent, SSEMessage } from "../src/protocol/types.ts";
import { validateHubEvents } from "../src/hub/publish_validation.ts";
import { HubEventError } from "../src/hub/errors.ts";
import type { HubEvent } from "../src/hub/broker.ts";
import { type Random, randomChunks, seededRandom } from "./support/random.ts";
import { type ReferenceOutcome, referenceParse } from "./support/reference_parser.ts";

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Parser

/** How lines start: every field, with and without the space, comments, near-misses. */
const LINE_STARTS = [
  "data:",
  "data: ",
  "data: ",
  "data: ",
  "data",
  "id:",
  "id: ",
  "event:",
  "event: ",
  "retry:",
  "retry: ",
  ":",
  ": ",
  "dat",
  "Data:",
  "x:",
  "",
];

/** What values are made of: multi-byte text, BOMs, NULs, colons, spaces, digits. */
const VALUE_PIECES = [
  " ",
  "x",
  "hello",
  "12",
  "7",
  "é",
  "€",
  "😀",
  "🦊🦊",
  "\uFEFF",
  "\0",
  "\t",
  ":",
  "a b",
];

const LINE_ENDS = ["\n", "\n", "\n", "\r", "\r\n"];

/** Bytes no text holds: invalid UTF-8, lone continuation bytes, truncated sequences. */
const RAW_BYTES = [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf]];

/** A random event stream: lines of every field, blank lines, odd bytes, long values. */
function randomWire(random: Random): Uint8Array {
  const parts: number[] = [];
  const add = (text: string) => parts.push(...encoder.encode(text));
  if (random.int(5) === 0) parts.push(0xef, 0xbb, 0xbf); // a BOM, sometimes a second one later
  const lines = random.int(30);
  for (let i = 0; i < lines; i++) {
    if (random.int(3) === 0) {
      add(random.pick(LINE_ENDS)); // a blank line: dispatch
      continue;
    }
    add(random.pick(LINE_STARTS));
    const pieces = random.int(5);
    for (let j = 0; j < pieces; j++) {
      const kind = random.int(12);
      if (kind === 0) parts.push(...random.pick(RAW_BYTES));
      else if (kind === 1) add("y".repeat(random.int(random.int(4) === 0 ? 100 : 20)));
      else add(random.pick(VALUE_PIECES));
    }
    // The last line may lack its ending (discarded, but it counts against the limit).
    if (i < lines - 1 || random.int(2) === 0) add(random.pick(LINE_ENDS));
  }
  return new Uint8Array(parts);
}

/** Text split at random UTF-16 positions (a surrogate pair may be split too). */
function randomTextChunks(text: string, random: Random): string[] {
  const chunks: string[] = [];
  for (let pos = 0; pos < text.length;) {
    const size = random.int(3) === 0 ? 0 : 1 + random.int(random.int(2) === 0 ? 4 : 64);
    chunks.push(text.slice(pos, pos + size));
    pos += size;
  }
  return chunks;
}

interface Run {
  outcome: ReferenceOutcome;
  /** The chunk whose feed threw, if one did. */
  failedAt?: number;
}

function runParser(chunks: (string | Uint8Array)[], maxEventBytes: number): Run {
  const outcome: ReferenceOutcome = { events: [], retries: [], comments: [] };
  const parser = createParser({
    onEvent: (m) => outcome.events.push(m),
    onRetry: (ms) => outcome.retries.push(ms),
    onComment: (text) => outcome.comments.push(text),
    maxEventBytes,
  });
  for (let i = 0; i < chunks.length; i++) {
    try {
      parser.feed(chunks[i]);
    } catch (error) {
      assert.ok(error instanceof SSEParseError, `only SSEParseError, got ${error}`);
      outcome.error = error.code;
      // Stays failed: the next feed throws the same error and dispatches nothing.
      const before = outcome.events.length;
      assert.throws(() => parser.feed("data: after\n\n"), (again) => again === error);
      assert.equal(outcome.events.length, before);
      return { outcome, failedAt: i };
    }
  }
  return { outcome };
}

/** Concatenates chunks 0..end (inclusive) of bytes or of text. */
function prefixOf(chunks: (string | Uint8Array)[], end: number): string | Uint8Array {
  if (typeof chunks[0] === "string") return (chunks as string[]).slice(0, end + 1).join("");
  const parts = (chunks as Uint8Array[]).slice(0, end + 1);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Feeds `chunks` and compares with the reference: the same events, retries and comments, the
 * same error, and the error thrown by the first chunk after which the input read so far is past
 * the limit: no buffer ever holds more than the limit and one chunk.
 */
function checkAgainstReference(
  chunks: (string | Uint8Array)[],
  whole: string | Uint8Array,
  maxEventBytes: number,
  label: string,
): void {
  const want = referenceParse(whole, maxEventBytes);
  const got = runParser(chunks, maxEventBytes);
  assert.deepEqual(got.outcome, want, label);
  if (want.error === undefined) return;
  let firstOver = -1;
  for (let i = 0; i < chunks.length && firstOver === -1; i++) {
    if (referenceParse(prefixOf(chunks, i), maxEventBytes).error) firstOver = i;
  }
  assert.equal(got.failedAt, firstOver, `${label}: refused at the first chunk past the limit`);
}

const LIMITS = [1024 * 1024, 1024 * 1024, 256, 64, 32, 16];

describe("parser fuzz: random bytes and chunkings agree with the reference parser", () => {
  it("bytes in random chunks (some empty, some single bytes), 400 seeded inputs", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededRandom(seed);
      const wire = randomWire(random);
      const max = random.pick(LIMITS);
      for (let round = 0; round < 2; round++) {
        const chunks = randomChunks(wire, random);
        if (chunks.length === 0) chunks.push(new Uint8Array(0));
        checkAgainstReference(chunks, wire, max, `seed ${seed} round ${round} max ${max}`);
      }
    }
  });

  it("text in random chunks (surrogate pairs split too), 1000 seeded inputs", () => {
    for (let seed = 10_001; seed <= 11_000; seed++) {
      const random = seededRandom(seed);
      const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(randomWire(random));
      const max = random.pick(LIMITS);
      const chunks = randomTextChunks(text, random);
      if (chunks.length === 0) chunks.push("");
      checkAgainstReference(chunks, text, max, `seed ${seed} max ${max}`);
    }
  });

  it("lines of multi-byte text within a few bytes of the limit, split anywhere, 500 seeded", () => {
    const chars = ["😀", "€", "é", "x"];
    for (let seed = 15_001; seed <= 15_500; seed++) {
      const random = seededRandom(seed);
      const max = 8 + random.int(56);
      const target = max + 8 - 6 + random.int(7) - 3; // the line's bytes: the limit, +-3
      let value = "";
      while (encoder.encode(value).length < target) value += random.pick(chars);
      const text = "data: " + value + random.pick(["", "\n", "\n\n", "\r\n\r\n"]);
      const chunks = randomTextChunks(text, random);
      if (chunks.length === 0) chunks.push("");
      checkAgainstReference(chunks, text, max, `seed ${seed} max ${max}`);
      const bytes = encoder.encode(text);
      checkAgainstReference(randomChunks(bytes, random), bytes, max, `seed ${seed} bytes`);
    }
  });

  it("SSEParserStream gives the reference's events, or errors with its SSEParseError", async () => {
    for (let seed = 20_001; seed <= 20_150; seed++) {
      const random = seededRandom(seed);
      const wire = randomWire(random);
      const max = random.pick(LIMITS);
      const want = referenceParse(wire, max);
      const chunks = randomChunks(wire, random);
      let i = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i < chunks.length) controller.enqueue(chunks[i++]);
          else controller.close();
        },
      });
      const got: SSEMessage[] = [];
      const reader = source.pipeThrough(new SSEParserStream({ maxEventBytes: max })).getReader();
      let error: unknown;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          got.push(value);
        }
      } catch (caught) {
        error = caught;
      }
      if (want.error === undefined) {
        assert.equal(error, undefined, `seed ${seed}`);
        assert.deepEqual(got, want.events, `seed ${seed}`);
      } else {
        // An erroring stream drops what was queued but not yet read: compare a prefix.
        assert.ok(error instanceof SSEParseError, `seed ${seed}: ${error}`);
        assert.equal(error.code, want.error, `seed ${seed}`);
        assert.deepEqual(got, want.events.slice(0, got.length), `seed ${seed}`);
      }
    }
  });

  it("an endless line or an endless event is refused as soon as it passes the limit", () => {
    for (let seed = 30_001; seed <= 30_050; seed++) {
      const random = seededRandom(seed);
      const max = 256 + random.int(4096);
      const endlessLine = createParser({ onEvent() {}, maxEventBytes: max });
      let fed = 0;
      assert.throws(() => {
        endlessLine.feed("data: ");
        for (fed = 6; fed < 100 * max; fed += 10) endlessLine.feed("€€€€€€€€€€".slice(0, 10));
      }, (error) => error instanceof SSEParseError && error.code === "line-too-long");
      assert.ok(fed <= max + 8 + 30, `seed ${seed}: held ${fed} bytes before refusing`);

      const endlessEvent = createParser({ onEvent() {}, maxEventBytes: max });
      let dataBytes = -1;
      assert.throws(() => {
        for (let line = 0; line < 100 * max; line++) {
          const value = "x".repeat(random.int(40));
          endlessEvent.feed(`data: ${value}\n`);
          dataBytes += value.length + 1;
        }
      }, (error) => error instanceof SSEParseError && error.code === "event-too-large");
      assert.ok(dataBytes <= max, `seed ${seed}: held ${dataBytes} bytes of data before refusing`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Encoder and publish validation

const ENCODE_CODES: readonly SSEEncodeErrorCode[] = [
  "invalid-event-object",
  "invalid-event",
  "invalid-id",
  "invalid-retry",
  "invalid-comment",
  "unserializable-data",
  "event-too-large",
];

function thrower(random: Random): () => never {
  const values: (() => unknown)[] = [
    () => new Error("boom"),
    () => new RangeError("range"),
    () => "a string",
    () => Symbol("thrown"),
    () => null,
    () => hostile(random, 0),
  ];
  const make = random.pick(values);
  return () => {
    throw make();
  };
}

/** A value meant to break whoever reads it. */
function hostile(random: Random, depth: number): unknown {
  const kind = random.int(depth > 3 ? 12 : 18);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return random.pick([0, -1, 1.5, NaN, Infinity, -0, 2 ** 53]);
    case 3:
      return random.pick(["", "a\nb", "\r", "x\0y", " lead", "€😀", "\uD800", "herald.end"]);
    case 4:
      return BigInt(random.int(1000));
    case 5:
      return Symbol("s");
    case 6:
      return () => 1;
    case 7:
      return true;
    case 8: {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case 9: {
      const handler: ProxyHandler<object> = {};
      for (const trap of ["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"]) {
        if (random.int(2) === 0) (handler as Record<string, unknown>)[trap] = thrower(random);
      }
      return new Proxy(random.int(2) === 0 ? {} : [], handler);
    }
    case 10:
      return { toJSON: thrower(random) };
    case 11: {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = random.int(2) === 0 ? cyclic : [cyclic];
      return cyclic;
    }
    case 12:
      return Object.defineProperty({}, "x", { enumerable: true, get: thrower(random) });
    case 13: {
      let deep: unknown = random.int(2) === 0 ? [] : {};
      for (let i = 0; i < 10_000; i++) deep = [deep];
      return deep;
    }
    case 14:
      return new Date(0);
    case 15:
      return new Map([[1, 2]]);
    default: {
      const out: Record<string, unknown> = {};
      const n = random.int(4);
      for (let i = 0; i < n; i++) out[`k${i}`] = hostile(random, depth + 1);
      return random.int(3) === 0 ? Object.values(out) : out;
    }
  }
}

const FIELDS = ["data", "event", "id", "retry", "comment"] as const;

/** An event-shaped object whose fields are hostile values, throwing getters, or plain values. */
function hostileEvent(random: Random): unknown {
  if (random.int(6) === 0) return hostile(random, 0);
  const event: Record<string, unknown> = {};
  for (const field of FIELDS) {
    const kind = random.int(4);
    if (kind === 0) continue;
    if (kind === 1) {
      Object.defineProperty(event, field, { enumerable: true, get: thrower(random) });
    } else event[field] = kind === 2 ? hostile(random, 1) : random.pick(["ok", "1", 5, { n: 1 }]);
  }
  return event;
}

describe("encoder fuzz: hostile values give SSEEncodeError or safe bytes", () => {
  it("encodeEvent: 600 seeded hostile events", () => {
    for (let seed = 40_001; seed <= 40_600; seed++) {
      const random = seededRandom(seed);
      const event = hostileEvent(random);
      let text: string;
      try {
        text = encodeEvent(event as SSEEvent);
      } catch (error) {
        assert.ok(
          error instanceof SSEEncodeError,
          `seed ${seed}: only SSEEncodeError, got ${error}`,
        );
        assert.ok(ENCODE_CODES.includes(error.code), `seed ${seed}: code ${error.code}`);
        assert.ok(error.message.length > 20, `seed ${seed}: a message`);
        continue;
      }
      // What it wrote is one block: at most one event, no field injected by a value.
      const seen: SSEMessage[] = [];
      createParser({ onEvent: (m) => seen.push(m), onRetry() {} }).feed(text);
      assert.ok(text.endsWith("\n\n") || text === "\n", `seed ${seed}: ends with a blank line`);
      assert.ok(seen.length <= 1, `seed ${seed}: one block, got ${JSON.stringify(text)}`);
    }
  });

  it("encodeComment: 200 seeded hostile values", () => {
    for (let seed = 50_001; seed <= 50_200; seed++) {
      const random = seededRandom(seed);
      const value = hostile(random, 0);
      try {
        const text = encodeComment(value as string);
        const seen: SSEMessage[] = [];
        createParser({ onEvent: (m) => seen.push(m) }).feed(text);
        assert.equal(seen.length, 0, `seed ${seed}: a comment dispatches nothing`);
      } catch (error) {
        assert.ok(
          error instanceof SSEEncodeError,
          `seed ${seed}: only SSEEncodeError, got ${error}`,
        );
        assert.equal(error.code, "invalid-comment");
      }
    }
  });

  it("SSEEncoderStream errors only with SSEEncodeError: 100 seeded streams", async () => {
    for (let seed = 60_001; seed <= 60_100; seed++) {
      const random = seededRandom(seed);
      const events = Array.from({ length: 1 + random.int(5) }, () => hostileEvent(random));
      // Not ReadableStream.from: it awaits each value, which reads `then` of a hostile one.
      let i = 0;
      const source = new ReadableStream<SSEEvent>({
        pull(controller) {
          if (i < events.length) controller.enqueue(events[i++] as SSEEvent);
          else controller.close();
        },
      });
      const reader = source.pipeThrough(new SSEEncoderStream()).getReader();
      try {
        while (!(await reader.read()).done);
      } catch (error) {
        assert.ok(
          error instanceof SSEEncodeError,
          `seed ${seed}: only SSEEncodeError, got ${error}`,
        );
      }
    }
  });

  it("validateHubEvents: 400 seeded hostile inputs give HubEventError or copies", () => {
    for (let seed = 70_001; seed <= 70_400; seed++) {
      const random = seededRandom(seed);
      const input = random.int(3) === 0
        ? Array.from({ length: random.int(4) }, () => hostileEvent(random))
        : hostileEvent(random);
      try {
        const events = validateHubEvents(input as HubEvent, 4096);
        for (const event of events) assert.equal(typeof encodeEvent(event), "string");
      } catch (error) {
        assert.ok(error instanceof HubEventError, `seed ${seed}: only HubEventError, got ${error}`);
      }
    }
  });
});
