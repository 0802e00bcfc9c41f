// A test server that speaks the Upstash Redis REST protocol (as the official `@upstash/redis`
// client speaks it) in front of a real redis-server, with fault injection. It runs in-process on
// Deno and Bun and talks RESP2 to Redis over node:net. Every request can be observed (`onRequest`)
// and several tokens accepted (`tokens`), so a benchmark can count traffic per client and kind.
//
// What it implements:
// - POST `/` with one command as a JSON array (`["SET", "k", "v"]`), arguments strings, numbers
//   or booleans; POST `/pipeline` and `/multi-exec` with an array of arrays; the URL-path form
//   (`GET /set/k/v`, `POST /set/k` with the value as the body).
// - POST or GET `/subscribe/<channel>` and `/psubscribe/<pattern>`: an SSE stream of
//   `data: subscribe,<channel>,<count>`, `data: message,<channel>,<payload>` (and `psubscribe`,
//   `pmessage,<pattern>,<channel>,<payload>`), payloads as text, never base64. The `subscribe`
//   line comes once Redis confirms: what is published before it is not delivered (as on Upstash,
//   a broker must wait for it). A payload containing CR or LF is written as is: the client splits
//   it into lines and loses the tail, so publish single-line payloads (JSON).
// - `Authorization: Bearer <token>` (401 otherwise), `Upstash-Encoding: base64` (every string of a
//   result at any depth base64 of its bytes, except a top-level "OK"), `upstash-sync-token` (a
//   counter sent with every response, the one a client sends back is recorded).
// - Replies `{"result": …}`; errors `{"error": "…"}` with status 400 (401 for a bad token). In a
//   pipeline or multi-exec each reply is `{result}` or `{error}` and the status is 200.
// - Commands REST can't serve are refused with 400: blocking reads (BLPOP, XREAD BLOCK, …) and
//   commands that change connection state (SUBSCRIBE, MULTI, SELECT, …), as on Upstash.
import { serve } from "./serve.ts";
import { startRedis } from "./redis_process.ts";
import {
  replyText,
  type RespArgument,
  RespConnection,
  RespError,
  type RespValue,
} from "./resp_connection.ts";

/** Options of {@link startUpstashRestServer}. */
export interface UpstashRestServerOptions {
  /** Redis to front, `redis://host:port`. Default: a private redis-server started (and stopped)
   * by the server itself, or `REDIS_URL` when set. */
  redisUrl?: string;
  /** The bearer token clients must send. Default: a random one (read it from `.token`). */
  token?: string;
  /** Delay added before every request is handled, in ms. Default 0. Settable later. */
  latencyMs?: number;
  /** More bearer tokens accepted besides `token`: one per simulated isolate, say, so traffic can
   * be told apart by client ({@link UpstashRestRequest.token}). More can be added later with
   * {@link UpstashRestServer.addToken}. */
  tokens?: readonly string[];
  /** Called with every authorised request that reaches Redis (a subscribe stream's opening
   * included, as `["SUBSCRIBE", channel]`), before it is run: to count or classify traffic by
   * command, script or token. It must not throw. */
  onRequest?: (request: UpstashRestRequest) => void;
}

/** What {@link UpstashRestServerOptions.onRequest} is told of one request. */
export interface UpstashRestRequest {
  /** "/", "/pipeline", "/multi-exec", "/subscribe", "/psubscribe", or "/<command>" (path form). */
  endpoint: string;
  /** The bearer token the client sent. */
  token: string;
  /** The commands, as strings; one for "/" and the path form, several for a pipeline. */
  commands: readonly (readonly string[])[];
}

/** How {@link UpstashRestServer.dropSubscriptions} ends the open subscribe streams. */
export type DropMode =
  /** The HTTP body ends cleanly (the client's reader sees `done`). */
  | "close"
  /** The HTTP body errors mid-stream: the connection is cut without a clean end. */
  | "abort"
  /** The upstream Redis subscription ends but the HTTP stream stays open, silent: the client sees
   * nothing at all (only a liveness check can notice). */
  | "stall";

/** Counters of what clients asked for, to assert on request counts (each command is billed). */
export interface UpstashRestCounters {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Requests by endpoint: "/", "/pipeline", "/multi-exec", "/subscribe", "/psubscribe", or
   * "/<command>" (lower case) for the URL-path form. */
  byPath: Record<string, number>;
  /** Commands sent to Redis (each command of a pipeline or multi-exec counts once). */
  commands: number;
  /** Commands by upper-case name ("XADD", "EVAL", …). */
  byCommand: Record<string, number>;
  /** Subscribe streams opened (`/subscribe` and `/psubscribe`) since the last reset. */
  subscriptionsOpened: number;
  /** Requests answered with an injected failure ({@link UpstashRestServer.failNext}). */
  failuresInjected: number;
  /** Requests refused with 401. */
  unauthorized: number;
  /** Requests that carried a non-empty `upstash-sync-token`. */
  syncTokensReceived: number;
  /** The last non-empty `upstash-sync-token` a client sent. */
  lastSyncToken: string | undefined;
}

/** A running server, from {@link startUpstashRestServer}. */
export interface UpstashRestServer {
  /** `http://127.0.0.1:<port>`: pass it as `url` to `new Redis({ url, token })`. */
  url: string;
  /** The bearer token: pass it as `token`. */
  token: string;
  /** The Redis behind it. */
  redis: { url: string; port: number };
  /** Delay added before every request, in ms (subscribe streams included). */
  latencyMs: number;
  /** Answers the next `count` requests (any endpoint) with `status` and an error body. */
  failNext(count: number, status?: number): void;
  /** Ends every open subscribe stream (see {@link DropMode}, default "abort"); returns how many. */
  dropSubscriptions(options?: { mode?: DropMode }): number;
  /** Counters since start or the last {@link UpstashRestServer.resetCounters}. */
  readonly counters: UpstashRestCounters;
  /** Zeroes the counters. */
  resetCounters(): void;
  /** Subscribe streams open now (stalled ones included). */
  readonly openSubscriptions: number;
  /** Subscribe streams open now and stalled by `dropSubscriptions({ mode: "stall" })`. */
  readonly stalledSubscriptions: number;
  /** Accepts one more bearer token from now on (see {@link UpstashRestServerOptions.tokens}). */
  addToken(token: string): void;
  /** Closes every stream and Redis connection, stops listening, and stops the redis-server it
   * started (if it started one). */
  stop(): Promise<void>;
}

/** Commands the REST API refuses: they block, or change the state of a shared connection. */
const REFUSED_COMMANDS = new Set([
  "BLPOP",
  "BRPOP",
  "BRPOPLPUSH",
  "BLMOVE",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
  "WAITAOF",
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SELECT",
  "QUIT",
  "RESET",
  "HELLO",
  "AUTH",
  "SHUTDOWN",
]);

const encoder = new TextEncoder();

/** A request the server refuses with 400 before Redis sees it. */
class BadRequest extends Error {}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunkBytes = 0x8000;
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunkBytes));
  }
  return btoa(binary);
}

/** A RESP reply as Upstash's JSON: base64 strings at any depth when asked, except top-level OK. */
function toJson(value: RespValue, base64: boolean, topLevel: boolean): unknown {
  if (value === null || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => toJson(item, base64, false));
  if (value instanceof RespError) return toJson(value.message, base64, false);
  if (typeof value === "string") {
    if (!base64 || (topLevel && value === "OK")) return value;
    return toBase64(encoder.encode(value));
  }
  return base64 ? toBase64(value) : replyText(value);
}

/** One command from JSON: a non-empty array of strings, numbers or booleans. */
function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest(
      `ERR a command is a non-empty JSON array like ["SET","key","value"], got ${
        JSON.stringify(value)
      }`,
    );
  }
  const command = value.map((argument) => {
    if (typeof argument === "string") return argument;
    if (typeof argument === "number" || typeof argument === "boolean") return String(argument);
    throw new BadRequest(
      `ERR arguments must be strings, numbers or booleans, got ${JSON.stringify(argument)}`,
    );
  });
  const name = command[0].toUpperCase();
  const blockingRead = (name === "XREAD" || name === "XREADGROUP") &&
    command.some((argument) => argument.toUpperCase() === "BLOCK");
  if (REFUSED_COMMANDS.has(name) || blockingRead) {
    throw new BadRequest(
      `ERR ${name}${blockingRead ? " BLOCK" : ""} is not supported over REST: ` +
        `use /subscribe or poll instead of blocking, /multi-exec instead of MULTI`,
    );
  }
  return command;
}

function toCommands(value: unknown): string[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequest(
      `ERR a pipeline is a non-empty JSON array of commands like [["SET","k","v"],["GET","k"]]`,
    );
  }
  return value.map(toCommand);
}

/** Starts the server; see the module comment for the protocol it speaks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Redis } from "@upstash/redis";
 * import { startUpstashRestServer, type UpstashRestRequest } from "./upstash_rest_server.ts";
 * const heard: UpstashRestRequest[] = [];
 * const server = await startUpstashRestServer({
 *   tokens: ["isolate-2"],
 *   onRequest: (request) => heard.push(request),
 * });
 * try {
 *   const redis = new Redis({ url: server.url, token: server.token, enableAutoPipelining: false });
 *   await redis.set("greeting", "hello");
 *   assert.equal(await redis.get("greeting"), "hello");
 *   assert.equal(server.counters.byCommand.SET, 1);
 *   const other = new Redis({ url: server.url, token: "isolate-2", enableAutoPipelining: false });
 *   assert.equal(await other.get("greeting"), "hello");
 *   assert.deepEqual(heard.map((r) => [r.token === server.token, r.commands[0][0]]), [
 *     [true, "set"],
 *     [true, "get"],
 *     [false, "get"],
 *   ]);
 *   server.failNext(1, 503); // the next request fails
 *   await assert.rejects(redis.get("greeting"));
 *   assert.equal(server.dropSubscriptions({ mode: "stall" }), 0); // no subscribe stream open
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startUpstashRestServer(
  options: UpstashRestServerOptions = {},
): Promise<UpstashRestServer> {
  const ownRedis = options.redisUrl === undefined ? await startRedis() : undefined;
  const redisUrl = options.redisUrl ?? ownRedis!.url;
  const redisPort = Number(new URL(redisUrl).port || 6379);
  const token = options.token ?? crypto.randomUUID().replaceAll("-", "");
  const accepted = new Set([
    `Bearer ${token}`,
    ...(options.tokens ?? []).map((t) => `Bearer ${t}`),
  ]);
  const onRequest = options.onRequest;

  const freshCounters = (): UpstashRestCounters => ({
    requests: 0,
    byPath: {},
    commands: 0,
    byCommand: {},
    subscriptionsOpened: 0,
    failuresInjected: 0,
    unauthorized: 0,
    syncTokensReceived: 0,
    lastSyncToken: undefined,
  });
  let counters = freshCounters();
  let failures = { remaining: 0, status: 500 };
  let syncToken = 0;
  let stopped = false;

  const connections = new Set<RespConnection>();
  async function connect(name: string): Promise<RespConnection> {
    const connection = await RespConnection.connect(redisUrl);
    connections.add(connection);
    connection.onClose(() => connections.delete(connection));
    // Named, so a test can find the server's connections in CLIENT LIST.
    await connection.command("CLIENT", "SETNAME", name);
    return connection;
  }
  // One pipelined connection for all commands, as reconnecting per request would be slow; it is
  // replaced when it dies (a Redis restart).
  let commandConnection: Promise<RespConnection> | undefined;
  function commandChannel(): Promise<RespConnection> {
    if (commandConnection === undefined) {
      const connecting = connect("herald-upstash-rest");
      commandConnection = connecting;
      connecting.then((connection) => {
        connection.onClose(() => {
          connections.delete(connection);
          if (commandConnection === connecting) commandConnection = undefined;
        });
      }, () => {
        if (commandConnection === connecting) commandConnection = undefined;
      });
    }
    return commandConnection;
  }

  function count(commands: readonly string[][]): void {
    for (const command of commands) {
      const name = command[0].toUpperCase();
      counters.commands++;
      counters.byCommand[name] = (counters.byCommand[name] ?? 0) + 1;
    }
  }

  function json(body: unknown, status = 200): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", "upstash-sync-token": String(syncToken) },
    });
  }

  async function run(commands: string[][]): Promise<RespValue[]> {
    count(commands);
    syncToken++;
    const connection = await commandChannel();
    return await connection.send(commands as RespArgument[][]);
  }

  async function single(command: string[], base64: boolean): Promise<Response> {
    const [reply] = await run([command]);
    if (reply instanceof RespError) return json({ error: reply.message }, 400);
    return json({ result: toJson(reply, base64, true) });
  }

  const item = (reply: RespValue, base64: boolean) =>
    reply instanceof RespError ? { error: reply.message } : { result: toJson(reply, base64, true) };

  async function pipeline(commands: string[][], base64: boolean): Promise<Response> {
    const replies = await run(commands);
    return json(replies.map((reply) => item(reply, base64)));
  }

  async function multiExec(commands: string[][], base64: boolean): Promise<Response> {
    count(commands);
    syncToken++;
    const connection = await commandChannel();
    // One write: no other request's command can land between MULTI and EXEC on this connection.
    const replies = await connection.send([["MULTI"], ...commands, ["EXEC"]]);
    const exec = replies[replies.length - 1];
    if (exec instanceof RespError) return json({ error: exec.message }, 400);
    if (!Array.isArray(exec)) return json({ error: "ERR the transaction was aborted" }, 400);
    return json(exec.map((reply) => item(reply, base64)));
  }

  // Subscribe streams.
  interface Subscription {
    controller: ReadableStreamDefaultController<Uint8Array>;
    connection: RespConnection | undefined;
    stalled: boolean;
    ended: boolean;
  }
  const subscriptions = new Set<Subscription>();

  function endSubscription(subscription: Subscription, mode: DropMode | "cancel"): void {
    const connection = subscription.connection;
    subscription.connection = undefined;
    connection?.close();
    if (mode === "stall") {
      subscription.stalled = true;
      return;
    }
    if (subscription.ended) return;
    subscription.ended = true;
    subscriptions.delete(subscription);
    try {
      if (mode === "close") subscription.controller.close();
      if (mode === "abort") {
        // Deno and Bun print a body stream's error: keep it to one line, no stack.
        const error = new Error("subscribe stream dropped (fault injection)");
        error.stack = `upstash_rest_server: ${error.message}`;
        subscription.controller.error(error);
      }
    } catch {
      // The stream was already closed or cancelled by the client: nothing left to end.
    }
  }

  async function subscribe(
    kind: "subscribe" | "psubscribe",
    names: string[],
    heard: (commands: string[][]) => void,
  ): Promise<Response> {
    if (names.length === 0) {
      return json({ error: `ERR /${kind}/<name>: name the channel or pattern in the path` }, 400);
    }
    count([[kind.toUpperCase(), ...names]]);
    heard([[kind.toUpperCase(), ...names]]);
    syncToken++;
    const connection = await connect(`herald-upstash-${kind}`);
    counters.subscriptionsOpened++;
    let subscription!: Subscription;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        subscription = { controller, connection, stalled: false, ended: false };
      },
      cancel() {
        endSubscription(subscription, "cancel");
      },
    });
    subscriptions.add(subscription);
    const send = (line: string) => {
      if (subscription.ended || subscription.stalled) return;
      try {
        subscription.controller.enqueue(encoder.encode(`data: ${line}\n\n`));
      } catch {
        endSubscription(subscription, "cancel"); // the client went away between checks
      }
    };
    connection.onPush((reply) => {
      if (!Array.isArray(reply)) return;
      send(reply.map((part) => replyText(part)).join(","));
    });
    connection.onClose((error) => {
      connections.delete(connection);
      // Redis went away under a live stream: end it as a network failure would.
      if (error !== undefined && subscription.connection === connection) {
        endSubscription(subscription, "abort");
      }
    });
    connection.write([[kind.toUpperCase(), ...names]]);
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "upstash-sync-token": String(syncToken),
      },
    });
  }

  async function handle(request: Request): Promise<Response> {
    counters.requests++;
    const url = new URL(request.url);
    const segments = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
    const first = segments[0]?.toLowerCase();
    const endpoint = first === undefined ? "/" : `/${first}`;
    counters.byPath[endpoint] = (counters.byPath[endpoint] ?? 0) + 1;
    if (server.latencyMs > 0) await new Promise((r) => setTimeout(r, server.latencyMs));
    if (failures.remaining > 0) {
      failures.remaining--;
      counters.failuresInjected++;
      return json(
        { error: "ERR injected failure (failNext): the server is unavailable" },
        failures.status,
      );
    }
    const authorization = request.headers.get("authorization") ?? "";
    if (!accepted.has(authorization)) {
      counters.unauthorized++;
      return json({
        error: "WRONGPASS invalid or missing auth token: send Authorization: Bearer <token>",
      }, 401);
    }
    const clientSyncToken = request.headers.get("upstash-sync-token");
    if (clientSyncToken) {
      counters.syncTokensReceived++;
      counters.lastSyncToken = clientSyncToken;
    }
    const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    if (request.method !== "POST" && request.method !== "GET") {
      return json({ error: `ERR method ${request.method} not allowed: use POST` }, 405);
    }
    const heard = (commands: string[][]) =>
      onRequest?.({ endpoint, token: authorization.slice("Bearer ".length), commands });
    try {
      if (first === "subscribe" || first === "psubscribe") {
        return await subscribe(first, segments.slice(1), heard);
      }
      if (first === undefined || first === "pipeline" || first === "multi-exec") {
        if (request.method !== "POST") {
          return json({ error: `ERR ${endpoint} takes a POST with a JSON body` }, 405);
        }
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch (error) {
          throw new BadRequest(`ERR the body is not JSON: ${(error as Error).message}`);
        }
        if (first === undefined) {
          const command = toCommand(body);
          heard([command]);
          return await single(command, base64);
        }
        const commands = toCommands(body);
        heard(commands);
        return first === "pipeline"
          ? await pipeline(commands, base64)
          : await multiExec(commands, base64);
      }
      // URL-path form: /set/key/value, or POST /set/key with the value as the body.
      const tail = request.method === "POST" ? await request.text() : "";
      const command = toCommand(tail === "" ? segments : [...segments, tail]);
      heard([command]);
      return await single(command, base64);
    } catch (error) {
      if (error instanceof BadRequest) return json({ error: error.message }, 400);
      // Redis itself is unreachable: a 5xx, as a real outage would answer.
      return json({ error: `ERR the test server lost Redis: ${(error as Error).message}` }, 502);
    }
  }

  const http = await serve(handle, { bunIdleTimeoutSeconds: 0 });
  const server: UpstashRestServer = {
    url: http.url,
    token,
    redis: { url: redisUrl, port: redisPort },
    latencyMs: options.latencyMs ?? 0,
    failNext(countOfRequests: number, status = 500) {
      failures = { remaining: countOfRequests, status };
    },
    dropSubscriptions({ mode = "abort" }: { mode?: DropMode } = {}) {
      let dropped = 0;
      for (const subscription of [...subscriptions]) {
        if (subscription.stalled) continue;
        endSubscription(subscription, mode);
        dropped++;
      }
      return dropped;
    },
    get counters() {
      return counters;
    },
    resetCounters() {
      counters = freshCounters();
    },
    get openSubscriptions() {
      return subscriptions.size;
    },
    get stalledSubscriptions() {
      return [...subscriptions].filter((s) => s.stalled).length;
    },
    addToken(extra: string) {
      accepted.add(`Bearer ${extra}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const open = [...subscriptions];
      for (const subscription of open) endSubscription(subscription, "close");
      // Let the streams' last chunk leave before the listener goes (else clients see a cut).
      if (open.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const connection of [...connections]) connection.close();
      await http.close();
      await ownRedis?.stop();
    },
  };
  return server;
}
