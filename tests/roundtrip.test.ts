import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser, encodeEvent, type SSEEvent, type SSEMessage } from "../mod.ts";
import { type Random, randomChunks, seededRandom } from "./support/random.ts";

const PIECES = [
  "a",
  "hello",
  " ",
  "  lead",
  ":",
  "data: x",
  "\r",
  "\n",
  "\r\n",
  "\n\n",
  "\r\r",
  "é",
  "€",
  "😀",
  "日本",
  "\uFEFF",
  "\0",
  "\t",
  "id: 3",
  "",
];

function randomText(random: Random, maxPieces: number): string {
  let text = "";
  const n = random.int(maxPieces + 1);
  for (let i = 0; i < n; i++) text += random.pick(PIECES);
  return text;
}

function randomName(random: Random): string {
  // Names and ids may hold anything but CR, LF (and NUL, for ids).
  return randomText(random, 4).replace(/[\r\n\0]/g, "_");
}

function randomEvent(random: Random): SSEEvent {
  const event: SSEEvent = {};
  const shape = random.int(10);
  event.data = shape === 0
    ? { n: random.int(1000), s: randomText(random, 3) }
    : randomText(random, 8);
  if (random.int(3) === 0) event.event = randomName(random);
  if (random.int(2) === 0) event.id = randomName(random);
  if (random.int(6) === 0) event.comment = randomText(random, 3);
  return event;
}

function expectedMessages(events: SSEEvent[], startId = ""): SSEMessage[] {
  let lastEventId = startId;
  return events.map((e) => {
    if (e.id !== undefined) lastEventId = e.id;
    const data = typeof e.data === "string" ? e.data : JSON.stringify(e.data);
    return {
      event: e.event === undefined || e.event === "" ? "message" : e.event,
      data: data.replace(/\r\n|\r|\n/g, "\n"),
      id: e.id,
      lastEventId,
    };
  });
}

function parseAll(chunks: (string | Uint8Array)[]): SSEMessage[] {
  const out: SSEMessage[] = [];
  const parser = createParser({ onEvent: (m) => out.push(m) });
  for (const chunk of chunks) parser.feed(chunk);
  return out;
}

describe("parse(encode(x)) gives back x", () => {
  it("for random events under random byte chunkings (500 seeded streams)", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = seededRandom(seed);
      const events = Array.from({ length: 1 + random.int(12) }, () => randomEvent(random));
      const wire = events.map(encodeEvent).join("");
      const bytes = new TextEncoder().encode(wire);
      const actual = parseAll(randomChunks(bytes, random));
      assert.deepEqual(actual, expectedMessages(events), `seed ${seed}: ${JSON.stringify(wire)}`);
    }
  });

  it("for random events under random text chunkings (500 seeded streams)", () => {
    for (let seed = 1001; seed <= 1500; seed++) {
      const random = seededRandom(seed);
      const events = Array.from({ length: 1 + random.int(12) }, () => randomEvent(random));
      const wire = events.map(encodeEvent).join("");
      const chunks: string[] = [];
      for (let pos = 0; pos < wire.length;) {
        const size = random.int(6);
        chunks.push(wire.slice(pos, pos + size));
        pos += size;
      }
      const actual = parseAll(chunks);
      assert.deepEqual(actual, expectedMessages(events), `seed ${seed}: ${JSON.stringify(wire)}`);
    }
  });

  it("for every string in a list of edge cases, at every byte split", () => {
    const cases = [
      "",
      " ",
      "  two",
      "a\r\nb",
      "\r",
      "\n",
      "\r\n",
      "\n\r",
      "x:\ny",
      "€😀",
      "\uFEFF",
    ];
    for (const data of cases) {
      const event: SSEEvent = { id: "1", data };
      const bytes = new TextEncoder().encode(encodeEvent(event));
      for (let i = 0; i <= bytes.length; i++) {
        const actual = parseAll([bytes.subarray(0, i), new Uint8Array(0), bytes.subarray(i)]);
        assert.deepEqual(actual, expectedMessages([event]), `${JSON.stringify(data)} at ${i}`);
      }
    }
  });

  it("keeps a leading BOM in the first event's data when the stream itself starts with one", () => {
    const wire = "\uFEFF" + encodeEvent({ data: "\uFEFFx" });
    assert.deepEqual(parseAll([wire]), expectedMessages([{ data: "\uFEFFx" }]));
  });
});
