// Starts a real HTTP server on 127.0.0.1 and a free port, in-process, with the runtime's own
// server: Deno.serve on Deno, Bun.serve on Bun. For workerd, see `workerd_process.mjs`.
import { runtime } from "./runtime.ts";

/** A request handler; on Bun the second argument is the `Server` (for `server.timeout`). */
export type Handler = (request: Request, server?: unknown) => Response | Promise<Response>;

/** A server started by {@link serve}. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Stops listening and closes open connections (SSE streams included). */
  close(): Promise<void>;
}

interface DenoLike {
  serve(
    options: { hostname: string; port: number; signal: AbortSignal; onListen(): void },
    handler: Handler,
  ): { addr: { port: number }; finished: Promise<void>; shutdown(): Promise<void> };
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout?: number;
    fetch: Handler;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> | void };
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Bun's idle timeout in seconds (Bun's default is 10; 0 disables it). Ignored on Deno. */
  bunIdleTimeoutSeconds?: number;
}

/** Serves `handler` on 127.0.0.1 with the current runtime's server. */
export function serve(handler: Handler, options: ServeOptions = {}): Promise<RunningServer> {
  const g = globalThis as unknown as { Deno?: DenoLike; Bun?: BunLike };
  if (runtime === "deno") {
    const controller = new AbortController();
    return new Promise((resolve) => {
      const server = g.Deno!.serve({
        hostname: "127.0.0.1",
        port: 0,
        signal: controller.signal,
        onListen() {},
      }, handler);
      const port = server.addr.port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        async close() {
          controller.abort();
          // Open SSE responses keep a graceful shutdown waiting: don't wait for them forever.
          await Promise.race([server.finished, new Promise((r) => setTimeout(r, 1000))]);
        },
      });
    });
  }
  if (runtime === "bun") {
    const server = g.Bun!.serve({
      hostname: "127.0.0.1",
      port: 0,
      ...(options.bunIdleTimeoutSeconds !== undefined
        ? { idleTimeout: options.bunIdleTimeoutSeconds }
        : {}),
      fetch: handler,
    });
    return Promise.resolve({
      url: `http://127.0.0.1:${server.port}`,
      port: server.port,
      async close() {
        await server.stop(true);
      },
    });
  }
  return Promise.reject(new Error(`serve() needs Deno or Bun, not ${runtime}`));
}
