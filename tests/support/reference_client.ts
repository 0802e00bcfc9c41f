// A small client of the reference server's API for tests: subscribe with fetch and Herald's
// parser, read events with a timeout, publish with a publisher key.
import { type SSEMessage, SSEParserStream } from "@herald/sse";

/** An open `/v1/events` stream. */
export interface EventStream {
  response: Response;
  /** The next dispatched event; rejects after `timeoutMs` (default 10 s) or at the end. */
  next(timeoutMs?: number): Promise<SSEMessage>;
  close(): void;
}

/**
 * Opens `GET <base>/v1/events?<query>`; throws with the server's error body unless it is a 200.
 *
 * @example
 * ```ts ignore
 * const events = await openEvents("http://127.0.0.1:8000", "topic=a", { authorization: "Bearer …" });
 * console.log((await events.next()).data);
 * events.close();
 * ```
 */
export async function openEvents(
  base: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/v1/events?${query}`, {
    headers,
    signal: controller.signal,
  });
  if (response.status !== 200) {
    throw new Error(`GET /v1/events?${query}: ${response.status} ${await response.text()}`);
  }
  return eventStreamOf(response, controller);
}

/**
 * Reads a 200 event-stream response with Herald's parser: `next()` gives each event in turn, with a
 * timeout; `close()` aborts the request through `controller`.
 *
 * @example
 * ```ts ignore
 * const controller = new AbortController();
 * const events = eventStreamOf(await fetch(url, { signal: controller.signal }), controller);
 * ```
 */
export function eventStreamOf(response: Response, controller: AbortController): EventStream {
  const reader = response.body!.pipeThrough(new SSEParserStream()).getReader();
  return {
    response,
    async next(timeoutMs = 10_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const { value, done } = await Promise.race([reader.read(), timeout]);
        if (done) throw new Error("the stream ended");
        return value;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      controller.abort();
      reader.cancel().catch(() => {/* already closed */});
    },
  };
}

/**
 * `POST <base>/v1/topics/<topic>` with a publisher key; returns the assigned ids, throws unless
 * it is a 200.
 *
 * @example
 * ```ts ignore
 * const ids = await publishEvents("http://127.0.0.1:8000", "a", { data: 1 }, "key");
 * ```
 */
export async function publishEvents(
  base: string,
  topic: string,
  body: unknown,
  key: string,
): Promise<string[]> {
  const response = await fetch(`${base}/v1/topics/${encodeURIComponent(topic)}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`POST /v1/topics/${topic}: ${response.status} ${text}`);
  }
  return JSON.parse(text).ids;
}

/** A refusal of the reference server: its status, `{ error: { code, message } }` and headers. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  headers: Headers;
}

/**
 * Opens `GET <base>/v1/events?<query>`: an {@link EventStream} for a 200, or the refusal (any
 * other status, its JSON error body read).
 *
 * @example
 * ```ts ignore
 * const result = await subscribeOrRefusal(url, "topic=a", { authorization: `Bearer ${token}` });
 * if ("code" in result) console.error(result.code);
 * ```
 */
export async function subscribeOrRefusal(
  base: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<EventStream | Refusal> {
  const controller = new AbortController();
  const response = await fetch(`${base}/v1/events?${query}`, {
    headers,
    signal: controller.signal,
  });
  if (response.status === 200) return eventStreamOf(response, controller);
  const text = await response.text();
  let error: { code?: string; message?: string } = {};
  try {
    error = JSON.parse(text).error ?? {};
  } catch {
    error = { message: text };
  }
  return {
    status: response.status,
    code: error.code ?? "",
    message: error.message ?? "",
    headers: response.headers,
  };
}

/** `POST <base><path>` with a JSON (or raw text) body: the status, the parsed body, the headers. */
export async function postJson(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
