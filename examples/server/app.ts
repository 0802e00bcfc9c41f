// The reference server: one Hono app, the same on Deno, Bun and Workers. The runtime entry files
// (deno.ts, bun.ts, worker.ts) make the config and the hub and pass per-request facts in the
// bindings: the client's address, and runtime hooks.
import { Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { type Hub, HubEventError, HubTopicError } from "@herald/sse";
import { sseStats } from "@herald/sse/server";
import { DEV_PUBLISHER_KEY, type ServerConfig } from "./config.ts";
import { bearerKeyOf, checkPublisherKey } from "./credentials.ts";
import { createDemo } from "./demo_routes.ts";
import { ServerError } from "./errors.ts";
import { signToken } from "./jwt.ts";
import { allowMethods, methodNotAllowed } from "./methods.ts";
import { requestLimits } from "./request_limits.ts";
import {
  allowedTopics,
  authenticateSubscriber,
  checkCursorLength,
  streamLifetime,
} from "./subscribe_request.ts";
import { subscriptionResponse } from "./subscription_response.ts";
import { createLiveStats } from "./live_stats.ts";
import { Metrics, streamGauges } from "./metrics.ts";
import { PAGE_HTML, pageContentSecurityPolicy } from "./page.ts";
import { readPublishBody } from "./publish_body.ts";

/**
 * What a runtime entry passes with each request (Hono's `c.env`).
 *
 * @example
 * ```ts
 * import type { AppBindings } from "./app.ts";
 * const bindings: AppBindings = { address: "203.0.113.7" };
 * ```
 */
export interface AppBindings {
  /** The client's address as the runtime saw it (Deno `remoteAddr`, Bun `requestIP`, Workers
   * `CF-Connecting-IP`). With `HERALD_TRUST_PROXY`, `X-Forwarded-For` wins. */
  address?: string;
  /** Called when a request becomes a long-lived stream (Bun: `server.timeout(request, 0)`). */
  holdOpen?: () => void;
  /** Keeps background work alive after the response (Workers: `ctx.waitUntil`). */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** What {@link createApp} needs. */
export interface AppOptions {
  config: ServerConfig;
  hub: Hub;
  /** Which broker the hub uses, for `/healthz`. */
  brokerName: "memory" | "upstash";
  metrics?: Metrics;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /** Where unexpected errors are reported (default `console`). */
  logger?: { error(message: string, error?: unknown): void };
  /** Ends every open stream cleanly when it aborts (a server shutting down): clients reconnect
   * to another instance and resume by their Last-Event-ID. */
  signal?: AbortSignal;
}

/** How long a dev-session token lives. */
export const DEV_TOKEN_TTL_SECONDS = 3600;

/**
 * Builds the reference server's Hono app: the page at `/`, `GET /v1/events`,
 * `POST /v1/topics/:topic`, `GET /healthz`, `GET /metrics`, and in dev mode
 * `POST /v1/dev/session`; the live view's `GET /v1/stats`; and the AI answer demo at
 * `POST /v1/demo/answers` and `POST /v1/demo/answers/:id/cancel` (examples/server/README.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * import { loadConfig } from "./config.ts";
 * import { hubFor } from "./hub_for.ts";
 * const config = loadConfig({ HERALD_DEV_MODE: "true" });
 * const app = createApp({ config, ...await hubFor(config) });
 * const response = await app.fetch(new Request("http://127.0.0.1/healthz"), {});
 * assert.equal(response.status, 200);
 * assert.equal((await response.json()).broker, "memory");
 * ```
 */
export function createApp(options: AppOptions): Hono<{ Bindings: AppBindings }> {
  const { config, hub } = options;
  const metrics = options.metrics ?? new Metrics();
  const now = options.now ?? Date.now;
  const logger = options.logger ?? console;
  const startedMs = now();
  const limits = requestLimits(config, now);

  const app = new Hono<{ Bindings: AppBindings }>();

  if (config.corsOrigins.length > 0) {
    const anyOrigin = config.corsOrigins.includes("*");
    app.use(
      "/v1/*",
      cors({
        origin: anyOrigin ? "*" : (origin) => config.corsOrigins.includes(origin) ? origin : null,
        credentials: config.corsCredentials,
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
        maxAge: 600,
      }),
    );
  }

  const addressOf = (request: Request, bindings: AppBindings | undefined): string => {
    if (config.trustProxy) {
      // The proxy appends the address it saw: the last entry is the one we can trust.
      const forwarded = request.headers.get("x-forwarded-for")?.split(",").map((s) => s.trim())
        .filter(Boolean);
      if (forwarded && forwarded.length > 0) return forwarded[forwarded.length - 1];
    }
    return bindings?.address ?? "unknown";
  };

  // An address that failed authentication too often is refused before any credential is read
  // (and, in the routes, after a right one: see AuthFailureThrottle).
  const throttleAuthFailures: MiddlewareHandler<{ Bindings: AppBindings }> = async (c, next) => {
    limits.authFailures.check(addressOf(c.req.raw, c.env));
    await next();
  };
  app.use("/v1/*", throttleAuthFailures);
  app.use("/metrics", throttleAuthFailures);

  const brokerFailure = (error: unknown, what: string): ServerError => {
    metrics.brokerError();
    logger.error(`herald: broker failed during ${what}`, error);
    return new ServerError(
      "broker-error",
      `The broker failed during ${what}. Try again; if it persists, check the broker's health.`,
      { cause: error, headers: { "retry-after": "2" } },
    );
  };
  // What the hub's refusals of a publish mean to a client of this API.
  const publishFailure = (error: unknown): ServerError => {
    if (error instanceof HubTopicError) {
      return new ServerError("topic-invalid", error.message, { cause: error });
    }
    if (error instanceof HubEventError) {
      // The hub bounds the event as written (data of many short lines grows by a `data: ` each).
      const code = error.code === "event-too-large" ? "event-too-large" : "body-invalid";
      return new ServerError(code, error.message, { cause: error });
    }
    return brokerFailure(error, "publish");
  };

  app.get("/", async (c) =>
    c.html(PAGE_HTML, 200, {
      "cache-control": "no-cache",
      "content-security-policy": await pageContentSecurityPolicy(),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    }));

  app.get("/healthz", async (c) => {
    try {
      await hub.broker.read([], 0);
    } catch (error) {
      throw brokerFailure(error, "the health check");
    }
    return c.json({
      status: "ok",
      broker: options.brokerName,
      uptimeSeconds: Math.round((now() - startedMs) / 1000),
    });
  });

  app.get("/metrics", async (c) => {
    if (
      config.metricsKey !== undefined &&
      await bearerKeyOf(c.req.raw, [config.metricsKey]) === undefined
    ) {
      throw new ServerError(
        "metrics-key-invalid",
        "/metrics needs `Authorization: Bearer <HERALD_METRICS_KEY>` when that key is set.",
      );
    }
    return c.body(metrics.render() + streamGauges(sseStats()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.get("/v1/events", async (c) => {
    const request = c.req.raw;
    // Hono answers HEAD with the GET handler; a HEAD must not open a stream.
    if (request.method === "HEAD") throw methodNotAllowed("HEAD", "/v1/events", ["GET"]);
    const address = addressOf(request, c.env);
    limits.subscribesPerAddress.take(address);
    const { claims, tokenKey } = await authenticateSubscriber(request, config, now());
    limits.authFailures.check(address); // a right guess from a throttled address: still 429
    limits.subscribesPerToken.take(tokenKey);
    const topics = allowedTopics(c.req.queries("topic"), claims, config.maxTopicsPerSubscription);
    checkCursorLength(request);
    const release = limits.connections.acquire(tokenKey, address);
    const response = await subscriptionResponse(hub, request, {
      topics,
      response: {
        ...(options.signal ? { signal: options.signal } : {}),
        keepAliveMs: config.keepAliveMs,
        retryMs: config.retryMs,
        ...streamLifetime(config.maxDurationMs, claims.exp, now()),
      },
      metrics,
      release,
      now,
      logger,
    });
    if (response.status === 200) c.env?.holdOpen?.();
    return response;
  });

  app.post("/v1/topics/:topic", async (c) => {
    const key = await checkPublisherKey(c.req.raw, config.publisherKeys);
    limits.authFailures.check(addressOf(c.req.raw, c.env)); // a right guess, throttled: still 429
    limits.publishes.take(key);
    const topic = c.req.param("topic");
    const events = await readPublishBody(c.req.raw, {
      maxEventBytes: config.maxEventBytes,
      maxEvents: config.maxEventsPerPublish,
    });
    let ids: string[];
    try {
      // The hub checks the topic's name and every event before anything is stored.
      ids = await hub.publish(topic, events);
    } catch (error) {
      throw publishFailure(error);
    }
    metrics.eventsPublished(ids.length);
    return c.json({ topic, ids });
  });

  app.post("/v1/dev/session", async (c) => {
    if (!config.devMode) throw notFound(c.req.path);
    const nowSeconds = Math.floor(now() / 1000);
    const exp = nowSeconds + DEV_TOKEN_TTL_SECONDS;
    const topics = ["*"];
    const token = await signToken(
      { topics, exp, iat: nowSeconds, sub: "dev-session" },
      config.jwtSecret,
    );
    const cookie = `${config.tokenCookie}=${token}; Path=/v1/; HttpOnly; SameSite=Strict; ` +
      `Max-Age=${DEV_TOKEN_TTL_SECONDS}`;
    return c.json(
      {
        token,
        topics,
        // Always the public dev key: dev mode refuses to start with real keys configured.
        publisherKey: DEV_PUBLISHER_KEY,
        expiresAt: new Date(exp * 1000).toISOString(),
      },
      200,
      { "set-cookie": cookie, "cache-control": "no-store" },
    );
  });

  const demo = createDemo({
    hub,
    publisherKeys: config.publisherKeys,
    publishRate: limits.publishes,
    metrics,
    tokenMs: config.demoTokenMs,
    logger,
  });
  app.post("/v1/demo/answers", (c) => demo.start(c.req.raw, c.env?.waitUntil));
  app.post("/v1/demo/answers/:id/cancel", (c) => demo.cancel(c.req.raw, c.req.param("id")));

  const live = createLiveStats({
    metrics,
    metricsKey: config.metricsKey,
    jwtSecret: config.jwtSecret,
    tokenCookie: config.tokenCookie,
    response: {
      keepAliveMs: config.keepAliveMs,
      retryMs: config.retryMs,
      ...(options.signal ? { signal: options.signal } : {}),
    },
    now,
  });
  app.get("/v1/stats", async (c) => {
    const response = await live.response(c.req.raw);
    c.env?.holdOpen?.();
    return response;
  });

  allowMethods(app, "/", ["GET", "HEAD"]);
  allowMethods(app, "/healthz", ["GET", "HEAD"]);
  allowMethods(app, "/metrics", ["GET", "HEAD"]);
  allowMethods(app, "/v1/events", ["GET"]);
  allowMethods(app, "/v1/topics/:topic", ["POST"]);
  allowMethods(app, "/v1/demo/answers", ["POST"]);
  allowMethods(app, "/v1/demo/answers/:id/cancel", ["POST"]);
  allowMethods(app, "/v1/stats", ["GET"]);
  if (config.devMode) allowMethods(app, "/v1/dev/session", ["POST"]);

  app.notFound((c) => notFound(c.req.path).toResponse());

  app.onError((error, c) => {
    if (error instanceof ServerError) {
      // A failed authentication counts against the address; past its burst the answer is 429.
      const answer = error.status === 401
        ? limits.authFailures.record(addressOf(c.req.raw, c.env)) ?? error
        : error;
      metrics.refused(answer.code);
      return answer.toResponse();
    }
    logger.error(`herald: ${c.req.method} ${c.req.path} failed`, error);
    metrics.refused("internal");
    return new ServerError(
      "internal",
      "The server failed to answer this request; it has been logged. Try again.",
    ).toResponse();
  });

  return app;
}

function notFound(path: string): ServerError {
  return new ServerError(
    "not-found",
    `Nothing at ${path}. The API: GET /v1/events?topic=…, POST /v1/topics/:topic, GET /healthz, ` +
      "GET /metrics.",
  );
}
