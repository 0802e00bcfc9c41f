// Shared by the stream e2e tests (streams_memory, streams_upstash, streams_workerd): starting,
// cancelling and reading streams over HTTP, and waiting with bounds.
import assert from "node:assert/strict";
import { answerTokens, type ModelRequestRecord } from "./fake_model_server.ts";
import type { ReaderResult } from "./stream_readers.ts";

/** What `POST /start` answers: startStream's result. */
export interface Started {
  started: boolean;
  cursor: string;
}

/** `POST /start` on a stream app (see workers/stream_app.ts). */
export async function startStream(
  baseUrl: string,
  topic: string,
  params: Record<string, string | number> = {},
): Promise<Started> {
  const url = new URL(`${baseUrl}/start`);
  url.searchParams.set("topic", topic);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, String(value));
  const response = await fetch(url, { method: "POST" });
  const text = await response.text();
  assert.equal(response.status, 200, `POST /start answered ${response.status}: ${text}`);
  return JSON.parse(text) as Started;
}

/** `POST /cancel`: cancelStream on the app's hub. */
export async function cancelStream(baseUrl: string, topic: string, reason?: string): Promise<void> {
  const url = new URL(`${baseUrl}/cancel`);
  url.searchParams.set("topic", topic);
  if (reason !== undefined) url.searchParams.set("reason", reason);
  const response = await fetch(url, { method: "POST" });
  const text = await response.text();
  assert.equal(response.status, 200, `POST /cancel answered ${response.status}: ${text}`);
}

/** One GET of the events with `Last-Event-ID`, read to its end or `timeoutMs`: status, events. */
export async function resumeOnce(
  eventsUrl: string,
  lastEventId: string,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string }> {
  const response = await fetch(eventsUrl, {
    headers: { "last-event-id": lastEventId },
    signal: AbortSignal.timeout(timeoutMs),
  });
  let body = "";
  try {
    body = await response.text();
  } catch (error) {
    body += `\n(read failed: ${(error as Error).message})`;
  }
  return { status: response.status, body };
}

/** Resolves when `check()` holds; fails after `timeoutMs` with `what`. Polls every 10 ms. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Asserts the whole-answer property of one reader: every token once, in order, then the end. */
export function assertWholeAnswer(
  result: ReaderResult,
  tokens: number,
  end: { status: string; reason?: string },
  label: string,
): void {
  const context = `${label}: ${
    JSON.stringify({
      got: result.tokens.length,
      end: result.end,
      statuses: summarize(result.statuses),
      stoppedBy: result.stoppedBy,
      drops: result.drops,
      other: result.other.slice(0, 3),
      afterEnd: result.afterEnd.slice(0, 3),
    })
  }`;
  assert.deepEqual(result.other, [], `no other events (${context})`);
  assert.equal(result.tokens.length, tokens, `token count (${context})`);
  assert.deepEqual(result.tokens, answerTokens(tokens), `every token once, in order (${context})`);
  assert.equal(result.end?.status, end.status, `herald.end status (${context})`);
  if (end.reason !== undefined) assert.equal(result.end?.reason, end.reason, context);
  assert.deepEqual(result.afterEnd, [], `nothing after herald.end (${context})`);
  assert.equal(result.statuses.at(-1), 204, `the resume after the end answers 204 (${context})`);
  assert.equal(result.stoppedBy, "no-content", `the reader stopped by itself (${context})`);
}

/** Statuses as `200×12 204×1`, short enough for a failure message. */
export function summarize(statuses: number[]): string {
  const parts: string[] = [];
  let last: number | undefined;
  let count = 0;
  for (const status of [...statuses, -1]) {
    if (status === last) {
      count++;
      continue;
    }
    if (last !== undefined) parts.push(`${last}×${count}`);
    last = status;
    count = 1;
  }
  return parts.join(" ");
}

/** The model requests of one stream, by its topic (the app tags them so). */
export function modelRequestsOf(
  requests: readonly ModelRequestRecord[],
  topic: string,
): ModelRequestRecord[] {
  return requests.filter((r) => r.tag === topic);
}
