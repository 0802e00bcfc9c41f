// Helpers shared by the hub's tests (tests/hub*.test.ts and tests/e2e/hub*.test.ts).
import type { SSEEvent } from "../mod.ts";

/** Reads `count` events from a reader, failing after `timeoutMs` with what it got so far. */
export async function take(
  reader: ReadableStreamDefaultReader<SSEEvent>,
  count: number,
  timeoutMs = 10_000,
): Promise<SSEEvent[]> {
  const got: SSEEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`got ${got.length} of ${count} events: ${JSON.stringify(got)}`)),
      timeoutMs,
    );
  });
  try {
    while (got.length < count) {
      const result = await Promise.race([reader.read(), timeout]);
      if (result.done) throw new Error(`stream ended after ${got.length} of ${count} events`);
      got.push(result.value);
    }
    return got;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the reader yields nothing within `ms` (then the pending read is left to cancel). */
export async function staysQuiet(
  reader: ReadableStreamDefaultReader<SSEEvent>,
  ms: number,
): Promise<SSEEvent | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const quiet = new Promise<undefined>((
    resolve,
  ) => (timer = setTimeout(() => resolve(undefined), ms)));
  const result = await Promise.race([reader.read().then((r) => r.value), quiet]);
  clearTimeout(timer);
  return result;
}

/** The data of data-carrying events (skips id-only blocks). */
export function dataOf(events: SSEEvent[]): unknown[] {
  return events.filter((e) => e.data !== undefined).map((e) => e.data);
}
