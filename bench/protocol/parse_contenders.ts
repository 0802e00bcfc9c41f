// The parser contenders. Each timed run parses the whole workload and counts events and data
// characters (the same small cost for everyone); each verify run also digests every event.
// Every contender's callbacks are written out separately on purpose: closures made from one
// function literal share the JIT's type feedback, which would make each contender pay for the
// others' object shapes.

import { createParser as esCreateParser } from "eventsource-parser";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { createParser, SSEParserStream } from "../../mod.ts";
import type { Group, Outcome } from "../support/measure.ts";
import { EventDigest } from "./digest.ts";
import type { Workload } from "./workloads.ts";

/** Names used in tables and in the target checks. */
export const PARSER = {
  herald: "herald createParser",
  peer: "eventsource-parser createParser",
  floor: "floor: TextDecoder + indexOf",
  heraldStream: "herald SSEParserStream",
  peerStream: "TextDecoderStream + EventSourceParserStream",
  floorStream: "floor: TransformStream(TextDecoder + indexOf)",
} as const;

function source(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Decodes a stream's chunks the cheapest correct way, as Herald's parser does: one-shot when the
 * decoder holds no partial character and the chunk ends in ASCII, streaming otherwise. The floors
 * use it, so that no parser can beat its floor by decoding more cleverly than it does.
 */
class ChunkDecoder {
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #holdsBytes = false;

  decode(chunk: Uint8Array): string {
    if (chunk.length === 0) return "";
    const endsInAscii = chunk[chunk.length - 1] < 0x80;
    if (endsInAscii && !this.#holdsBytes) return this.#decoder.decode(chunk);
    this.#holdsBytes = !endsInAscii;
    return this.#decoder.decode(chunk, { stream: true });
  }
}

/**
 * Counts blank lines (= events in these workloads) with one indexOf per line: the least work a
 * parser of decoded text must do. Knows the workload has only LF or CRLF endings (a real parser
 * must also look for lone CRs), so it is a true floor.
 */
class LineCounter {
  pendingChars = 0;
  endsInCR = false;
  events = 0;

  scan(text: string): void {
    let start = 0;
    let lf = text.indexOf("\n");
    while (lf !== -1) {
      let length = this.pendingChars + lf - start;
      if (length > 0 && (lf > start ? text.charCodeAt(lf - 1) === 13 : this.endsInCR)) length--;
      if (length === 0) this.events++;
      this.pendingChars = 0;
      start = lf + 1;
      lf = text.indexOf("\n", start);
    }
    this.pendingChars += text.length - start;
    if (text.length > 0) this.endsInCR = text.charCodeAt(text.length - 1) === 13;
  }
}

/** `createParser` fed bytes, against eventsource-parser fed the output of a TextDecoder. */
export function syncBytesGroup(workload: Workload): Group {
  const { chunks } = workload;
  const herald = (digest?: EventDigest): Outcome => {
    let events = 0;
    let chars = 0;
    const parser = createParser({
      onEvent(message) {
        events++;
        chars += message.data.length;
        digest?.add(message);
      },
    });
    for (let i = 0; i < chunks.length; i++) parser.feed(chunks[i]);
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const peer = (digest?: EventDigest): Outcome => {
    let events = 0;
    let chars = 0;
    const decoder = new TextDecoder();
    const parser = esCreateParser({
      onEvent(message) {
        events++;
        chars += message.data.length;
        digest?.add(message);
      },
    });
    for (let i = 0; i < chunks.length; i++) {
      parser.feed(decoder.decode(chunks[i], { stream: true }));
    }
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const floor = (): Outcome => {
    const decoder = new ChunkDecoder();
    const counter = new LineCounter();
    for (let i = 0; i < chunks.length; i++) {
      counter.scan(decoder.decode(chunks[i]));
    }
    return { events: counter.events, digest: "" };
  };
  return {
    title: `parse bytes, createParser: ${workload.title}`,
    bytes: workload.bytes,
    events: workload.eventCount,
    contenders: [
      { name: PARSER.herald, run: () => herald(), verify: () => herald(new EventDigest()) },
      { name: PARSER.peer, run: () => peer(), verify: () => peer(new EventDigest()) },
      { name: PARSER.floor, floor: true, run: floor },
    ],
  };
}

/** The parsers alone, fed already-decoded text (informational: no target). */
export function syncTextGroup(workload: Workload): Group {
  const { textChunks } = workload;
  const herald = (digest?: EventDigest): Outcome => {
    let events = 0;
    let chars = 0;
    const parser = createParser({
      onEvent(message) {
        events++;
        chars += message.data.length;
        digest?.add(message);
      },
    });
    for (let i = 0; i < textChunks.length; i++) parser.feed(textChunks[i]);
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const peer = (digest?: EventDigest): Outcome => {
    let events = 0;
    let chars = 0;
    const parser = esCreateParser({
      onEvent(message) {
        events++;
        chars += message.data.length;
        digest?.add(message);
      },
    });
    for (let i = 0; i < textChunks.length; i++) parser.feed(textChunks[i]);
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const floor = (): Outcome => {
    const counter = new LineCounter();
    for (let i = 0; i < textChunks.length; i++) counter.scan(textChunks[i]);
    return { events: counter.events, digest: "" };
  };
  return {
    title: `parse text (already decoded), createParser: ${workload.title}`,
    bytes: workload.bytes,
    events: workload.eventCount,
    contenders: [
      { name: PARSER.herald, run: () => herald(), verify: () => herald(new EventDigest()) },
      { name: PARSER.peer, run: () => peer(), verify: () => peer(new EventDigest()) },
      { name: "floor: indexOf", floor: true, run: floor },
    ],
  };
}

/** `SSEParserStream` fed bytes, against `TextDecoderStream` + `EventSourceParserStream`. */
export function streamGroup(workload: Workload): Group {
  const { chunks } = workload;
  const herald = async (digest?: EventDigest): Promise<Outcome> => {
    let events = 0;
    let chars = 0;
    const reader = source(chunks).pipeThrough(new SSEParserStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      events++;
      chars += value.data.length;
      digest?.add(value);
    }
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const peer = async (digest?: EventDigest): Promise<Outcome> => {
    let events = 0;
    let chars = 0;
    const reader = source(chunks)
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      events++;
      chars += value.data.length;
      digest?.add(value);
    }
    return { events, digest: digest ? digest.toString() : String(chars) };
  };
  const floor = async (): Promise<Outcome> => {
    const decoder = new ChunkDecoder();
    const counter = new LineCounter();
    const reader = source(chunks).pipeThrough(
      new TransformStream<Uint8Array, number>({
        transform(chunk, controller) {
          const before = counter.events;
          counter.scan(decoder.decode(chunk));
          controller.enqueue(counter.events - before);
        },
      }),
    ).getReader();
    let events = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      events += value;
    }
    return { events, digest: "" };
  };
  return {
    title: `parse bytes, streams: ${workload.title}`,
    bytes: workload.bytes,
    events: workload.eventCount,
    contenders: [
      { name: PARSER.heraldStream, run: () => herald(), verify: () => herald(new EventDigest()) },
      { name: PARSER.peerStream, run: () => peer(), verify: () => peer(new EventDigest()) },
      {
        name: PARSER.floorStream,
        floor: true,
        note: "one hop, one read per chunk, not per event",
        run: floor,
      },
    ],
  };
}
