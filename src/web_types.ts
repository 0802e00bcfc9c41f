// Names for web types that TypeScript's DOM library declares but @types/node does not, derived
// from globals both declare, so Herald's declarations type-check for Node users without "DOM".

/**
 * What `new Headers(init)` accepts: an object, an array of pairs, or a `Headers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HeadersInitLike } from "./web_types.ts";
 * const headers: HeadersInitLike = { authorization: "Bearer token" };
 * assert.equal(new Headers(headers).get("authorization"), "Bearer token");
 * ```
 */
export type HeadersInitLike = ConstructorParameters<typeof Headers>[0];

/**
 * The `credentials` mode of a `fetch` request: `"omit"`, `"same-origin"` or `"include"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RequestCredentialsLike } from "./web_types.ts";
 * const credentials: RequestCredentialsLike = "include";
 * assert.equal(new Request("http://localhost/", { credentials }).credentials, "include");
 * ```
 */
export type RequestCredentialsLike = NonNullable<RequestInit["credentials"]>;
