import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser, type SSEMessage } from "../mod.ts";
import { PARSE_VECTORS, type ParseVector } from "./support/parse_vectors.ts";

interface Outcome {
  events: SSEMessage[];
  retries: number[];
  comments: string[];
  lastEventId: string;
}

function parseChunks(chunks: (string | Uint8Array)[]): Outcome {
  const outcome: Outcome = { events: [], retries: [], comments: [], lastEventId: "" };
  const parser = createParser({
    onEvent: (m) => outcome.events.push(m),
    onRetry: (ms) => outcome.retries.push(ms),
    onComment: (text) => outcome.comments.push(text),
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.reset();
  outcome.lastEventId = parser.lastEventId;
  return outcome;
}

function expected(vector: ParseVector): Outcome {
  const events = vector.events.map((e) => ({
    event: e.event,
    data: e.data,
    id: e.id,
    lastEventId: e.lastEventId,
  }));
  return {
    events,
    retries: vector.retries ?? [],
    comments: vector.comments ?? [],
    lastEventId: vector.finalLastEventId ?? events.at(-1)?.lastEventId ?? "",
  };
}

function check(vector: ParseVector, chunks: (string | Uint8Array)[], how: string): void {
  const actual = parseChunks(chunks);
  const want = expected(vector);
  // Retries and comments are checked only where the vector lists them.
  if (vector.retries === undefined) actual.retries = [];
  if (vector.comments === undefined) actual.comments = [];
  assert.deepEqual(actual, want, `${vector.name} (${how})`);
}

const bytesOf = (input: string | Uint8Array) =>
  typeof input === "string" ? new TextEncoder().encode(input) : input;
const EMPTY = new Uint8Array(0);

describe("parser: web-platform-tests cases", () => {
  for (const vector of PARSE_VECTORS) {
    it(vector.name, () => {
      check(vector, [vector.input], "one chunk");
    });
  }
});

describe("parser: every vector under every chunking", () => {
  it("gives the same events for the bytes split at every position, with an empty chunk between", () => {
    for (const vector of PARSE_VECTORS) {
      const bytes = bytesOf(vector.input);
      for (let i = 0; i <= bytes.length; i++) {
        check(vector, [bytes.subarray(0, i), EMPTY, bytes.subarray(i)], `split at byte ${i}`);
      }
    }
  });

  it("gives the same events fed byte by byte with empty chunks between", () => {
    for (const vector of PARSE_VECTORS) {
      const bytes = bytesOf(vector.input);
      const chunks: Uint8Array[] = [EMPTY];
      for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1), EMPTY);
      check(vector, chunks, "byte by byte");
    }
  });

  it("gives the same events for text split at every position, with an empty string between", () => {
    for (const vector of PARSE_VECTORS) {
      if (typeof vector.input !== "string") continue;
      const text = vector.input;
      for (let i = 0; i <= text.length; i++) {
        check(vector, [text.slice(0, i), "", text.slice(i)], `split at char ${i}`);
      }
    }
  });

  it("gives the same events for text fed one character at a time", () => {
    for (const vector of PARSE_VECTORS) {
      if (typeof vector.input !== "string") continue;
      check(vector, [...vector.input], "char by char");
    }
  });

  it("gives the same events when every split position is split again (three chunks)", () => {
    for (const vector of PARSE_VECTORS) {
      const bytes = bytesOf(vector.input);
      if (bytes.length > 80) continue; // quadratic: the short vectors cover the rule
      for (let i = 0; i <= bytes.length; i++) {
        for (let j = i; j <= bytes.length; j++) {
          const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
          check(vector, chunks, `split at ${i} and ${j}`);
        }
      }
    }
  });
});
