// A worker that runs Herald's client inside workerd against a loopback server of the test host
// (`env.TARGET`, e.g. http://127.0.0.1:1234) and answers with what it received, as JSON.
// Bundled and served by tests/e2e/client_workerd.test.ts. GET /<scenario> runs one scenario.
import { connect, EventSource, SSEClientError, type SSEMessage } from "../../../mod.ts";

interface Env {
  TARGET: string;
}

/** Timers that record the reconnection delays chosen and run them at once. */
function recordingTimers(delaysMs: number[], realMs: number[] = []) {
  return {
    setTimeout(callback: () => void, ms: number): unknown {
      if (realMs.includes(ms)) return setTimeout(callback, ms);
      delaysMs.push(ms);
      return setTimeout(callback, 0);
    },
    clearTimeout(id: unknown): void {
      clearTimeout(id as number);
    },
  };
}

function describeError(error: unknown) {
  return error instanceof SSEClientError
    ? { code: error.code, status: error.status, bodyStart: error.bodyStart }
    : { code: "not-a-client-error", message: String(error) };
}

async function iterate(url: string, options: Parameters<typeof connect>[1] = {}) {
  const delaysMs: number[] = [];
  const errors: string[] = [];
  const messages: SSEMessage[] = [];
  const connection = connect(url, { timers: recordingTimers(delaysMs), ...options });
  connection.onerror = (error) => errors.push(error.code);
  let thrown: unknown;
  try {
    for await (const message of connection) messages.push(message);
  } catch (error) {
    thrown = describeError(error);
  }
  return { messages, errors, delaysMs, thrown, readyState: connection.readyState };
}

const scenarios: Record<string, (env: Env) => Promise<unknown>> = {
  // The server drops every 3 events; 204 after the 10th.
  drops: (env) => iterate(env.TARGET + "/drops"),

  eventSource: (env) =>
    new Promise((resolve) => {
      const seen: unknown[] = [];
      const source = new EventSource(env.TARGET + "/drops?named=1", {
        timers: recordingTimers([]),
      });
      source.onmessage = (event) => seen.push(["message", event.data, event.lastEventId]);
      source.addEventListener("tick", (event) => {
        const message = event as MessageEvent;
        seen.push(["tick", message.data, message.lastEventId]);
      });
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) resolve({ seen, url: source.url });
      };
    }),

  post: (env) => {
    let token = 0;
    return iterate(env.TARGET + "/drops", {
      method: "POST",
      body: "the same body every time",
      headers: () => ({ authorization: `Bearer t${++token}` }),
    });
  },

  backoff: (env) =>
    iterate(env.TARGET + "/flaky", { retry: { initialMs: 100, factor: 2, jitter: 0 } }),

  notFound: (env) => iterate(env.TARGET + "/missing"),

  idle: (env) =>
    iterate(env.TARGET + "/silent", {
      idleTimeoutMs: 300,
      timers: recordingTimers([], [300]),
    }),

  closeMidStream: (env) =>
    new Promise((resolve) => {
      const seen: string[] = [];
      const source = new EventSource(env.TARGET + "/burst", { timers: recordingTimers([]) });
      source.onmessage = (event) => {
        seen.push(event.data);
        if (seen.length === 3) source.close();
      };
      // Anything dispatched after close() would land in `seen` within this time.
      setTimeout(() => resolve({ seen, readyState: source.readyState }), 300);
    }),

  withCredentials: (env) =>
    new Promise((resolve) => {
      const source = new EventSource(env.TARGET + "/drops", {
        withCredentials: true,
        maxRetries: 0,
        timers: recordingTimers([]),
      });
      const seen: string[] = [];
      source.onmessage = (event) => seen.push(event.data);
      source.onerror = (event) => {
        if (source.readyState !== EventSource.CLOSED) return;
        resolve({ seen, error: describeError((event as { error?: unknown }).error) });
      };
    }),
};

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).pathname.slice(1);
    const scenario = scenarios[name];
    if (!scenario) return new Response(`no scenario ${name}`, { status: 404 });
    try {
      return Response.json({ runtime: navigator.userAgent, result: await scenario(env) });
    } catch (error) {
      return Response.json({ error: String((error as Error)?.stack ?? error) }, { status: 500 });
    }
  },
};
