// Which methods a route takes. Hono answers an unknown method with its not-found handler; an HTTP
// client is better told 405 and the methods that would work (`Allow`).
import type { Env, Hono } from "hono";
import { ServerError } from "./errors.ts";

/**
 * The refusal of a request whose method `path` does not take: 405 `method-not-allowed` with an
 * `Allow` header listing `allowed`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodNotAllowed } from "./methods.ts";
 * const response = methodNotAllowed("PUT", "/v1/events", ["GET"]).toResponse();
 * assert.equal(response.status, 405);
 * assert.equal(response.headers.get("allow"), "GET");
 * ```
 */
export function methodNotAllowed(
  method: string,
  path: string,
  allowed: readonly string[],
): ServerError {
  return new ServerError(
    "method-not-allowed",
    `${path} does not take ${method}; it takes ${allowed.join(", ")}.`,
    { headers: { allow: allowed.join(", ") } },
  );
}

/**
 * Answers every method of `path` but `allowed` with {@link methodNotAllowed}. Call it after the
 * route's own handlers: Hono runs the first handler that answers, so theirs come first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { ServerError } from "./errors.ts";
 * import { allowMethods } from "./methods.ts";
 * const app = new Hono();
 * app.get("/x", (c) => c.text("ok"));
 * allowMethods(app, "/x", ["GET", "HEAD"]);
 * app.onError((error) => {
 *   if (error instanceof ServerError) return error.toResponse();
 *   throw error;
 * });
 * const response = await app.fetch(new Request("http://h/x", { method: "DELETE" }));
 * assert.equal(response.status, 405);
 * assert.equal(response.headers.get("allow"), "GET, HEAD");
 * ```
 */
export function allowMethods<E extends Env>(
  app: Hono<E>,
  path: string,
  allowed: readonly string[],
): void {
  app.all(path, (c) => {
    throw methodNotAllowed(c.req.method, path, allowed);
  });
}
