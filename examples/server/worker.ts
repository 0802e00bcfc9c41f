// The reference server on Cloudflare Workers (and workerd locally: see workerd.capnp and
// wrangler.toml). Per-request rules of Workers (FIELD-NOTES): nothing that does I/O is shared
// across requests. The app and the hub are plain objects made once per isolate from the env; each
// subscription's stream is read, and its heartbeat timer runs, in the request that owns it; the
// AI demo's producer runs under the publishing request's `ctx.waitUntil`.
import type { Hono } from "hono";
import { type AppBindings, createApp } from "./app.ts";
import { type Env, loadConfig } from "./config.ts";
import { ServerError } from "./errors.ts";
import { hubFor } from "./hub_for.ts";

/** The part of the Workers `ExecutionContext` this entry uses. */
interface ExecutionContextLike {
  waitUntil(work: Promise<unknown>): void;
}

let app: Hono<{ Bindings: AppBindings }> | undefined;
let configError: ServerError | undefined;

function build(env: Record<string, unknown>): void {
  const strings: Env = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") strings[name] = value;
  }
  // A Worker has no HOST: dev mode (with its well-known secrets) only when asked for by name.
  try {
    const config = loadConfig({ HERALD_DEV_MODE: "false", ...strings });
    const { hub, brokerName } = hubFor(config);
    app = createApp({ config, hub, brokerName });
  } catch (error) {
    if (!(error instanceof ServerError)) throw error;
    console.error(`herald: ${error.message}`);
    configError = error;
  }
}

export default {
  fetch(
    request: Request,
    env: Record<string, unknown>,
    ctx: ExecutionContextLike,
  ): Response | Promise<Response> {
    if (!app && !configError) build(env);
    if (configError) return configError.toResponse();
    return app!.fetch(request, {
      address: request.headers.get("cf-connecting-ip") ?? undefined,
      waitUntil: (work) => ctx.waitUntil(work),
    });
  },
};
