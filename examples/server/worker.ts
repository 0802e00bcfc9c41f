// The reference server on Cloudflare Workers (and workerd locally: see workerd.capnp and
// wrangler.toml). Per-request rules of Workers: nothing that does I/O is shared across requests.
// The app and the hub are plain objects made once per isolate from the env; each subscription's
// stream is read, and its heartbeat timer runs, in the request that owns it; the AI demo's
// producer runs under the publishing request's `ctx.waitUntil`.
import type { Hono } from "hono";
import { type AppBindings, createApp } from "./app.ts";
import { type Env, loadConfig } from "./config.ts";
import { ServerError } from "./errors.ts";
import { hubFor } from "./hub_for.ts";

/** The part of the Workers `ExecutionContext` this entry uses. */
interface ExecutionContextLike {
  waitUntil(work: Promise<unknown>): void;
}

type App = Hono<{ Bindings: AppBindings }>;
let built: Promise<App | ServerError> | undefined;

async function build(env: Record<string, unknown>): Promise<App | ServerError> {
  const strings: Env = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === "string") strings[name] = value;
  }
  try {
    const config = loadConfig(strings);
    const { hub, brokerName } = await hubFor(config);
    return createApp({ config, hub, brokerName });
  } catch (error) {
    if (!(error instanceof ServerError)) throw error;
    console.error(`herald: ${error.message}`);
    return error;
  }
}

export default {
  async fetch(
    request: Request,
    env: Record<string, unknown>,
    ctx: ExecutionContextLike,
  ): Promise<Response> {
    // Made once per isolate: the config and the hub's signing key hold no request's I/O.
    const app = await (built ??= build(env));
    if (app instanceof ServerError) return app.toResponse();
    return app.fetch(request, {
      address: request.headers.get("cf-connecting-ip") ?? undefined,
      waitUntil: (work) => ctx.waitUntil(work),
    });
  },
};
