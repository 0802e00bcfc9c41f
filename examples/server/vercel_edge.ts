// The reference server as a Vercel Edge Function. Deploy: copy this file to `api/[[...route]].ts`
// of a Vercel project (fix the relative imports), set the secrets, `HERALD_MAX_DURATION_MS` (e.g.
// 280000, under the plan's maximum duration) and the Upstash pair in the project settings
// (docs/deploy.md). Tested locally under the `edge-runtime` package (tests/e2e/server_api.test.ts,
// target "edge").
import type { Hono } from "hono";
import { type AppBindings, createApp } from "./app.ts";
import { type Env, loadConfig } from "./config.ts";
import { ServerError } from "./errors.ts";
import { hubFor } from "./hub_for.ts";

/** Tells Vercel to run this function on the Edge runtime. */
export const config = { runtime: "edge" };

/** What Vercel hands an Edge Function besides the request. */
export interface EdgeContext {
  waitUntil(work: Promise<unknown>): void;
}

type App = Hono<{ Bindings: AppBindings }>;
let built: Promise<App | ServerError> | undefined;

async function build(): Promise<App | ServerError> {
  const env = (globalThis as { process?: { env?: Env } }).process?.env ?? {};
  try {
    const settings = loadConfig(env);
    return createApp({ ...await hubFor(settings), config: settings });
  } catch (error) {
    if (!(error instanceof ServerError)) throw error;
    console.error(`herald: ${error.message}`);
    return error;
  }
}

/**
 * The Edge Function: every route of the reference server. The client address is the first
 * `X-Forwarded-For` entry, which Vercel's edge network sets.
 *
 * @example
 * ```ts ignore
 * // api/[[...route]].ts
 * export { config, default } from "../examples/server/vercel_edge.ts";
 * ```
 */
export default async function handler(
  request: Request,
  context?: EdgeContext,
): Promise<Response> {
  const app = await (built ??= build());
  if (app instanceof ServerError) return app.toResponse();
  const forwarded = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return app.fetch(request, {
    address: forwarded || undefined,
    waitUntil: context ? (work) => context.waitUntil(work) : undefined,
  });
}
