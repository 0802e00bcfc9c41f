// The reference server: one Hono app, the same on Deno, Bun and Workers. The runtime entry files
// (deno.ts, bun.ts, worker.ts) make the config and the hub and pass per-request facts in the
// bindings: the client's address, and runtime hooks.
import { Hono } from "hono";
import { cors } from "hono/cors";
import {
  BrokerError,
  encodeCursor,
  type Hub,
  HubCursorError,
  HubEventError,
  HubTopicError,
  lastEventIdOf,
  type SSECloseReason,
  sseResponse,
  sseStats,
  topicsTag,
  validateTopic,
  ZERO_POSITION,
} from "../../mod.ts";
import { streamAnswer } from "./ai_answer.ts";
import type { ServerConfig } from "./config.ts";
import { bearerKeyOf, checkPublisherKey, findToken } from "./credentials.ts";
import { meterDeliveries } from "./delivery_meter.ts";
import { ServerError } from "./errors.ts";
import { signToken, verifyToken } from "./jwt.ts";
import { ConnectionLimiter, RateLimiter } from "./limits.ts";
import { Metrics, streamGauges } from "./metrics.ts";
import { PAGE_HTML, pageContentSecurityPolicy } from "./page.ts";
import { readPublishBody } from "./publish_body.ts";
import { topicAllowed } from "./topic_patterns.ts";

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

/** The answers of the AI demo that may stream at once, per isolate. */
export const MAX_CONCURRENT_ANSWERS = 20;
/** How long a dev-session token lives. */
export const DEV_TOKEN_TTL_SECONDS = 3600;

/**
 * Builds the reference server's Hono app: the page at `/`, `GET /v1/events`,
 * `POST /v1/topics/:topic`, `GET /healthz`, `GET /metrics`, and in dev mode
 * `POST /v1/dev/session`; plus the AI answer demo at `POST /v1/demo/answers`.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * import { loadConfig } from "./config.ts";
 * import { memoryHub } from "./memory_hub.ts";
 * const config = loadConfig({});
 * const app = createApp({ config, hub: memoryHub(config), brokerName: "memory" });
 * const response = await app.fetch(new Request("http://127.0.0.1/healthz"), {});
 * console.log(response.status); // 200
 * ```
 */
export function createApp(options: AppOptions): Hono<{ Bindings: AppBindings }> {
  const { config, hub } = options;
  const metrics = options.metrics ?? new Metrics();
  const now = options.now ?? Date.now;
  const logger = options.logger ?? console;
  const startedMs = now();
  const connections = new ConnectionLimiter({
    perToken: config.maxConnectionsPerToken,
    perAddress: config.maxConnectionsPerAddress,
  });
  const publishRate = new RateLimiter({
    ratePerSecond: config.publishRatePerSecond,
    burst: config.publishBurst,
    now,
  });
  let answersStreaming = 0;

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

  const brokerFailure = (error: unknown, what: string): ServerError => {
    metrics.brokerError();
    logger.error(`herald: broker failed during ${what}`, error);
    return new ServerError(
      "broker-error",
      `The broker failed during ${what}. Try again; if it persists, check the broker's health.`,
      { cause: error, headers: { "retry-after": "2" } },
    );
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
    const found = findToken(request, config.tokenCookie);
    if (!found) {
      throw new ServerError(
        "token-missing",
        "Subscribing needs a token: send `Authorization: Bearer <token>`, the " +
          `${config.tokenCookie} cookie, or ?token=<token>. Mint one with \`deno task mint-token\`.`,
      );
    }
    const claims = await verifyToken(found.token, config.jwtSecret, now());
    const topics = [...new Set(c.req.queries("topic") ?? [])];
    if (topics.length === 0) {
      throw new ServerError(
        "topics-missing",
        "Name the topics to subscribe to: /v1/events?topic=a&topic=b.",
      );
    }
    if (topics.length > config.maxTopicsPerSubscription) {
      throw new ServerError(
        "too-many-topics",
        `${topics.length} topics in one subscription; the most allowed is ` +
          `${config.maxTopicsPerSubscription} (HERALD_MAX_TOPICS_PER_SUBSCRIPTION).`,
      );
    }
    for (const topic of topics) checkTopic(topic);
    const forbidden = topics.filter((topic) => !topicAllowed(topic, claims.topics));
    if (forbidden.length > 0) {
      throw new ServerError(
        "topic-forbidden",
        `The token does not allow topic(s) ${forbidden.map((t) => JSON.stringify(t)).join(", ")}` +
          ` (it allows ${claims.topics.map((t) => JSON.stringify(t)).join(", ")}).`,
      );
    }
    // The signature identifies the token without keeping the token itself as a map key.
    const tokenKey = found.token.slice(found.token.lastIndexOf(".") + 1);
    const release = connections.acquire(tokenKey, addressOf(request, c.env));
    let stream: ReadableStream;
    const lastEventId = lastEventIdOf(request);
    try {
      stream = await hub.subscribe({ topics, lastEventId, signal: request.signal });
    } catch (error) {
      release();
      if (error instanceof HubCursorError) {
        throw new ServerError(
          "cursor-invalid",
          `${error.message} (code ${error.code})`,
          { cause: error },
        );
      }
      if (error instanceof HubTopicError) {
        throw new ServerError("topic-invalid", error.message, { cause: error });
      }
      throw brokerFailure(error, "subscribe");
    }
    // Counted before: a stream can close (and count as closed) before sseResponse returns.
    metrics.connectionOpened();
    let response: Response;
    try {
      response = sseResponse(meterDeliveries(stream, metrics, { lastEventId, now }), {
        request,
        ...(options.signal ? { signal: options.signal } : {}),
        keepAliveMs: config.keepAliveMs,
        retryMs: config.retryMs,
        ...(config.maxDurationMs > 0 ? { maxDurationMs: config.maxDurationMs } : {}),
        onClose(reason: SSECloseReason) {
          release();
          metrics.connectionClosed(reason);
        },
        onError(error: unknown) {
          if (error instanceof BrokerError) metrics.brokerError();
          logger.error("herald: a subscription failed", error);
        },
      });
    } catch (error) {
      // No response, so no close signal will come: give the slot and the subscription back here.
      release();
      metrics.connectionClosed("producer-error");
      await stream.cancel(error).catch(() => {/* the subscription is gone either way */});
      throw error;
    }
    c.env?.holdOpen?.();
    return response;
  });

  app.post("/v1/topics/:topic", async (c) => {
    const key = await checkPublisherKey(c.req.raw, config.publisherKeys);
    publishRate.take(key);
    const topic = checkTopic(c.req.param("topic"));
    const events = await readPublishBody(c.req.raw, {
      maxEventBytes: config.maxEventBytes,
      maxEvents: config.maxEventsPerPublish,
    });
    let ids: string[];
    try {
      ids = await hub.publish(topic, events);
    } catch (error) {
      if (error instanceof HubEventError) {
        throw new ServerError("body-invalid", error.message, { cause: error });
      }
      throw brokerFailure(error, "publish");
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
        publisherKey: config.publisherKeys[0],
        expiresAt: new Date(exp * 1000).toISOString(),
      },
      200,
      { "set-cookie": cookie, "cache-control": "no-store" },
    );
  });

  app.post("/v1/demo/answers", async (c) => {
    const key = await checkPublisherKey(c.req.raw, config.publisherKeys);
    publishRate.take(key);
    if (answersStreaming >= MAX_CONCURRENT_ANSWERS) {
      throw new ServerError(
        "rate-limited",
        `${MAX_CONCURRENT_ANSWERS} demo answers are streaming already; wait for one to finish.`,
        { headers: { "retry-after": "10" } },
      );
    }
    const topic = `answer.${crypto.randomUUID().slice(0, 8)}`;
    // The cursor "before the first token": a reader that starts with it gets the whole answer,
    // however late it connects (a fresh subscription would start at the topic's head).
    let lastEventId: string;
    try {
      const { epoch } = await hub.broker.read([{ topic, after: ZERO_POSITION }], 0);
      lastEventId = encodeCursor(epoch, topicsTag([topic]), [ZERO_POSITION]);
    } catch (error) {
      throw brokerFailure(error, "the demo's start");
    }
    answersStreaming++;
    const work = streamAnswer(
      async (t, events) => {
        const ids = await hub.publish(t, events);
        metrics.eventsPublished(ids.length);
        return ids;
      },
      topic,
      { tokenMs: config.demoTokenMs },
    )
      .catch((error) => {
        metrics.brokerError();
        logger.error(`herald: the demo answer on ${topic} stopped`, error);
      })
      .finally(() => answersStreaming--);
    c.env?.waitUntil?.(work);
    return c.json({ topic, lastEventId }, 201);
  });

  app.notFound((c) => notFound(c.req.path).toResponse());

  app.onError((error, c) => {
    if (error instanceof ServerError) {
      metrics.refused(error.code);
      return error.toResponse();
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

function checkTopic(topic: string): string {
  try {
    return validateTopic(topic);
  } catch (error) {
    if (error instanceof HubTopicError) {
      throw new ServerError("topic-invalid", error.message, { cause: error });
    }
    throw error;
  }
}

function notFound(path: string): ServerError {
  return new ServerError(
    "not-found",
    `Nothing at ${path}. The API: GET /v1/events?topic=…, POST /v1/topics/:topic, GET /healthz, ` +
      "GET /metrics.",
  );
}
