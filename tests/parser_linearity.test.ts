// The parser's time is linear in its input: the same event at 8x the size (with maxEventBytes
// raised to fit it) must take at most 16x the time (linear is 8x; a parser that re-measures what
// it buffered per line or per chunk takes ~64x). Measured as a ratio of best times, each the
// best of several rounds that alternate the two sizes, so a busy machine slows both alike.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createParser } from "../src/protocol/parser.ts";
import { SSEParserStream } from "../src/protocol/parser_stream.ts";
import { runtime } from "./support/runtime.ts";

// Small enough that the 8x event (and the strings it is built of) stays below V8's large-object
// size (128 KiB), whose allocation and collection cost more per byte on some V8 versions (Node 20,
// which runs the Edge runtime here, took 12x the time for a 512 KiB string as for 64 KiB): that
// would be the engine's non-linearity, not the parser's.
const BASE_DATA_BYTES = 12 * 1024;
const SCALE = 8;
const MAX_GROWTH = 16;
/** Rounds of (1x, 8x); the test stops early once the ratio is clearly linear. */
const MAX_ROUNDS = 9;
const MIN_ROUNDS = 3;
/** The 1x work is repeated until one measurement takes this long, for a readable clock. */
const MIN_BASE_MS = 20;
const MAX_REPEATS = 4096;

// workerd's clock moves only between I/O events (a Workers rule against timing attacks), so a
// measurement there starts and ends after a timer has fired.
const clockNeedsIo = runtime === "workerd";
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function elapsedMs(work: () => void | Promise<void>): Promise<number> {
  if (clockNeedsIo) await tick();
  const started = performance.now();
  await work();
  if (clockNeedsIo) await tick();
  return performance.now() - started;
}

/** One event whose data is `dataBytes` of 9-character lines (10 bytes each with the LF). */
function shortLinesEvent(dataBytes: number): { wire: string; dataLength: number } {
  const lines = Math.floor(dataBytes / 10);
  return { wire: "data: 012345678\n".repeat(lines) + "\n", dataLength: lines * 10 - 1 };
}

/** Splits text into pieces of `size` UTF-16 units. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Splits bytes into chunks of `size`, each its own buffer as a network read delivers it. */
function byteChunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

interface Workload {
  /** Parses one event of the given scale once, and checks that it was dispatched whole. */
  run(): void | Promise<void>;
}

type Build = (dataBytes: number) => Workload;

function parsesOneEvent(dataLength: number, feedAll: (feed: (c: string) => void) => void) {
  return (maxEventBytes: number) => {
    let seen = -1;
    const parser = createParser({ onEvent: (m) => (seen = m.data.length), maxEventBytes });
    feedAll((chunk) => parser.feed(chunk));
    assert.equal(seen, dataLength, "the event is dispatched whole");
  };
}

const manyShortLinesInOneChunk: Build = (dataBytes) => {
  const { wire, dataLength } = shortLinesEvent(dataBytes);
  const parse = parsesOneEvent(dataLength, (feed) => feed(wire));
  return { run: () => parse(dataBytes) };
};

const oneLongLineInTinyChunks: Build = (dataBytes) => {
  const chunks = pieces("data: " + "y".repeat(dataBytes) + "\n\n", 64);
  const parse = parsesOneEvent(dataBytes, (feed) => {
    for (const chunk of chunks) feed(chunk);
  });
  return { run: () => parse(dataBytes) };
};

const throughTheStream: Build = (dataBytes) => {
  const { wire, dataLength } = shortLinesEvent(dataBytes);
  const chunks = byteChunks(new TextEncoder().encode(wire), 1024);
  return {
    async run() {
      let i = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i < chunks.length) controller.enqueue(chunks[i++]);
          else controller.close();
        },
      });
      const reader = source.pipeThrough(new SSEParserStream({ maxEventBytes: dataBytes }))
        .getReader();
      const first = await reader.read();
      assert.equal(first.value?.data.length, dataLength, "the event is dispatched whole");
      assert.equal((await reader.read()).done, true);
    },
  };
};

/** Measures `build` at 1x and 8x; returns the ratio of the best times and what was measured. */
async function growth(build: Build): Promise<{ ratio: number; detail: string }> {
  const small = build(BASE_DATA_BYTES);
  const large = build(BASE_DATA_BYTES * SCALE);
  for (let i = 0; i < 3; i++) {
    await small.run(); // warm-up (and a correctness check) for both sizes
    await large.run();
  }
  let repeats = 1;
  const repeated = (workload: Workload) => async () => {
    for (let i = 0; i < repeats; i++) await workload.run();
  };
  // The best of three, so that one slow measurement does not stop the doubling too early.
  while (repeats < MAX_REPEATS) {
    let ms = Infinity;
    for (let i = 0; i < 3; i++) ms = Math.min(ms, await elapsedMs(repeated(small)));
    if (ms >= MIN_BASE_MS) break;
    repeats *= 2;
  }
  let bestSmall = Infinity;
  let bestLarge = Infinity;
  let rounds = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    bestSmall = bestLarge = Infinity;
    rounds = 0;
    while (rounds < MAX_ROUNDS) {
      rounds++;
      bestSmall = Math.min(bestSmall, await elapsedMs(repeated(small)));
      bestLarge = Math.min(bestLarge, await elapsedMs(repeated(large)));
      if (rounds >= MIN_ROUNDS && bestLarge / bestSmall <= MAX_GROWTH * 0.75) break;
    }
    if (bestSmall >= MIN_BASE_MS / 2 || repeats >= MAX_REPEATS) break;
    // The calibration ran slow (a busy machine, a late JIT tier): the 1x time is too short to
    // read well, so measure again with more repeats.
    repeats = Math.min(MAX_REPEATS, repeats * 4);
  }
  const ratio = bestLarge / bestSmall;
  const detail = `1x ${bestSmall.toFixed(1)} ms, ${SCALE}x ${bestLarge.toFixed(1)} ms ` +
    `(best of ${rounds} rounds, ${repeats} event(s) each): ${ratio.toFixed(1)}x`;
  return { ratio, detail };
}

async function assertLinear(build: Build): Promise<void> {
  const { ratio, detail } = await growth(build);
  assert.ok(
    ratio <= MAX_GROWTH,
    `time grew ${ratio.toFixed(1)}x for ${SCALE}x the input: ${detail}`,
  );
}

describe("parser: time linear in the input", () => {
  it("one event of many short data lines in one chunk: 8x the size, at most 16x the time", async () => {
    await assertLinear(manyShortLinesInOneChunk);
  });

  it("one long line in 64-character chunks: 8x the size, at most 16x the time", async () => {
    await assertLinear(oneLongLineInTinyChunks);
  });

  it("SSEParserStream, short data lines in 1 KiB byte chunks: 8x the size, at most 16x the time", async () => {
    await assertLinear(throughTheStream);
  });
});
