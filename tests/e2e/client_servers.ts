// Loopback servers and clocks for the client's end-to-end tests (tests/e2e/client*.test.ts).
import { encodeEvent, type SSEEvent } from "../../mod.ts";
import { type RunningServer, serve } from "../support/serve.ts";

/** What a test server saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A stream the server controls: write events or raw text, end it, or learn it was cancelled. */
export interface ServerStream {
  write(event: SSEEvent | string): void;
  end(): void;
  /** Resolves when the client went away (the body was cancelled). */
  cancelled: Promise<void>;
}

/** Builds a `text/event-stream` response whose body the caller drives. */
export function sseStream(): { response: Response; stream: ServerStream } {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let onCancel!: () => void;
  const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      onCancel();
    },
  });
  const stream: ServerStream = {
    write(event) {
      if (!open) return;
      controller.enqueue(encoder.encode(typeof event === "string" ? event : encodeEvent(event)));
    },
    end() {
      if (!open) return;
      open = false;
      controller.close();
    },
    cancelled,
  };
  const response = new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
  return { response, stream };
}

/** A response whose whole body is `text` (events already encoded). */
export function sseText(text: string, init: ResponseInit = {}): Response {
  return new Response(text, {
    ...init,
    headers: { "content-type": "text/event-stream", ...(init.headers ?? {}) },
  });
}

/** A test server: a handler given each request and its 1-based number, and a log of requests. */
export interface ScriptedServer extends RunningServer {
  requests: SeenRequest[];
}

/** Serves `handler` on 127.0.0.1 (Bun's idle timeout off), recording every request. */
export async function scriptedServer(
  handler: (request: Request, n: number, seen: SeenRequest) => Response | Promise<Response>,
): Promise<ScriptedServer> {
  const requests: SeenRequest[] = [];
  const server = await serve(async (request, bunServer) => {
    (bunServer as { timeout?(r: Request, s: number): void } | undefined)?.timeout?.(request, 0);
    const url = new URL(request.url);
    const seen: SeenRequest = {
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    requests.push(seen);
    return handler(request, requests.length, seen);
  }, { bunIdleTimeoutSeconds: 0 });
  return Object.assign(server, { requests });
}

/**
 * Timers for a client under test: reconnection delays are recorded and then run at once, so a
 * test asserts the delays chosen, not wall time. Delays listed in `realMs` (an idle timeout) run
 * for real and are not recorded.
 */
export function recordingTimers(realMs: number[] = []) {
  const delaysMs: number[] = [];
  return {
    delaysMs,
    timers: {
      setTimeout(callback: () => void, ms: number): unknown {
        if (realMs.includes(ms)) return setTimeout(callback, ms);
        delaysMs.push(ms);
        return setTimeout(callback, 0);
      },
      clearTimeout(id: unknown): void {
        clearTimeout(id as number);
      },
    },
  };
}

/** Resolves after `ms` of wall time; only to give a wrong behaviour the chance to show. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition()` holds, polling; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}
