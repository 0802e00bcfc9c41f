// The four workloads of the protocol benchmark, built deterministically so every run
// and every runtime measures the same bytes. Each holds both forms: the events an encoder is
// given and the wire bytes (in the chunks a network read would deliver) a parser is given.

import type { SSEEvent } from "../../mod.ts";

/** One workload: events to encode, and their wire form chunked for the parsers. */
export interface Workload {
  /** Short key, used by `--filter`. */
  key: string;
  title: string;
  /** What an encoder is given. `undefined` when the workload is about parsing only. */
  events?: SSEEvent[];
  /** The wire form, chunked as a reader would see it. */
  chunks: Uint8Array[];
  /** The same chunks decoded (split where the bytes were), for string-fed parsers. */
  textChunks: string[];
  bytes: number;
  eventCount: number;
}

const KIB = 1024;
const encoder = new TextEncoder();

function chunkBytes(bytes: Uint8Array, chunkBytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    // `slice`, not `subarray`: each chunk its own buffer, as a network read delivers it.
    chunks.push(bytes.slice(i, i + chunkBytes));
  }
  return chunks;
}

function decodeChunks(chunks: Uint8Array[]): string[] {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true }));
}

function finish(
  key: string,
  title: string,
  events: SSEEvent[] | undefined,
  chunks: Uint8Array[],
  eventCount: number,
): Workload {
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  return { key, title, events, chunks, textChunks: decodeChunks(chunks), bytes, eventCount };
}

/** A ticker-style JSON event with an id, as a resumable feed sends it. */
function smallJsonEvent(i: number): SSEEvent {
  return {
    id: String(i),
    data: { seq: i, symbol: "ACME", price: 100 + (i % 997) / 100, side: i % 2 ? "buy" : "sell" },
  };
}

function smallJsonWire(count: number, lineEnd: string): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    const event = smallJsonEvent(i);
    text += `id: ${event.id}${lineEnd}data: ${JSON.stringify(event.data)}${lineEnd}${lineEnd}`;
  }
  return text;
}

const TOKENS = [
  " The",
  " quick",
  " brown",
  " fox",
  " jumps",
  " over",
  " the",
  " lazy",
  " dog",
  ".",
  " Café",
  " 🦊",
  " naïve",
  "\n",
];

/** An OpenAI-style chat completion chunk: data only, no id, one token of content. */
function tokenEvent(i: number): SSEEvent {
  return {
    data: {
      id: "chatcmpl-9x",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content: TOKENS[i % TOKENS.length] } }],
    },
  };
}

/** 64 KiB of text in lines of 64 characters: a document or a log tail sent in one event. */
function multiLineData(i: number): string {
  const line = `line of event ${i} `.padEnd(63, "abcdefghijklmnopqrstuvwxyz") + "\n";
  const lines = Math.floor(64 * KIB / line.length);
  return line.repeat(lines - 1) + line.slice(0, -1);
}

/** The workloads' keys, in the order the benchmark runs them. */
export const WORKLOAD_KEYS = ["small", "tokens", "big", "crlf"] as const;

/** A workload's key. */
export type WorkloadKey = (typeof WORKLOAD_KEYS)[number];

/**
 * Builds one workload at `scale` (1 = the sizes in bench/README.md; smaller for a quick run).
 * One at a time, so that a run holds only the workload it measures: with all four alive (a few
 * hundred MB) every collection scans them, and that cost, the same for every contender, tripled
 * the per-event time of the stream groups and pulled their ratios towards 1.
 */
export function buildWorkload(key: WorkloadKey, scale = 1): Workload {
  const smallCount = Math.round(100_000 * scale);
  const tokenCount = Math.round(200_000 * scale);
  const bigCount = Math.round(1_000 * scale);

  if (key === "small") {
    const smallEvents = Array.from({ length: smallCount }, (_, i) => smallJsonEvent(i));
    return finish(
      "small",
      `${smallCount} small JSON events with ids, 64 KiB chunks`,
      smallEvents,
      chunkBytes(encoder.encode(smallJsonWire(smallCount, "\n")), 64 * KIB),
      smallCount,
    );
  }

  if (key === "tokens") {
    const tokenEvents = Array.from({ length: tokenCount }, (_, i) => tokenEvent(i));
    return finish(
      "tokens",
      `${tokenCount} LLM-token events, one per chunk`,
      tokenEvents,
      tokenEvents.map((e) => encoder.encode(`data: ${JSON.stringify(e.data)}\n\n`)),
      tokenCount,
    );
  }

  if (key === "big") {
    const bigEvents = Array.from({ length: bigCount }, (_, i) => ({ data: multiLineData(i) }));
    let bigWire = "";
    for (const event of bigEvents) {
      bigWire += "data: " + event.data.replaceAll("\n", "\ndata: ") + "\n\n";
    }
    return finish(
      "big",
      `${bigCount} events of 64 KiB multi-line data, 64 KiB chunks`,
      bigEvents,
      chunkBytes(encoder.encode(bigWire), 64 * KIB),
      bigCount,
    );
  }

  return finish(
    "crlf",
    `${smallCount} small JSON events with ids, CRLF line endings, 64 KiB chunks`,
    undefined, // encoders write LF: the CRLF workload is about parsing
    chunkBytes(encoder.encode(smallJsonWire(smallCount, "\r\n")), 64 * KIB),
    smallCount,
  );
}
