/**
 * `kiln gateway`: the hosted /v1 API with no model inside. The same routes `kiln serve` mounts
 * (registerHostedRoutes) over the Redis store and Redis files; state lives in Redis, so several gateways
 * behind a load balancer agree. Plus /health-check (unauthenticated) and /metrics.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_BODY_LIMIT } from "../runtime/http/body.js";
import { sendJson } from "../runtime/http/respond.js";
import { Router } from "../runtime/http/router.js";
import { applyCors, corsPolicy } from "../runtime/http/cors.js";
import { registerPlayground } from "../runtime/http/playground.js";
import { createLogger, type Logger } from "../runtime/logger.js";
import { MetricsRegistry } from "../runtime/metrics.js";
import { registerMetricsRoute } from "../runtime/server-metrics.js";
import { registerHostedRoutes } from "../runtime/v1/api.js";
import { makeAuthCheck } from "../runtime/v1/auth.js";
import { DEFAULT_V1_FILE_LIMITS, type FileLimitsV1 } from "../runtime/v1/files-store.js";
import { DEFAULT_PAGE_SIZE } from "../runtime/v1/options.js";
import { RUNTIME_VERSION } from "../runtime/version.js";
import { DEFAULT_SSE_LIMITS } from "../runtime/sse.js";
import { ensureWebhookSecret } from "./catalog.js";
import { GROUP, makeKeys, type Keys } from "./keys.js";
import { Mirrors } from "./mirrors.js";
import { FLEET_DEFAULTS } from "./options.js";
import { pairs, RedisConnection, redactUrl } from "./redis.js";
import { RedisFiles } from "./redis-files.js";
import { addFleetCacheMetrics } from "./redis-cache-store.js";
import { RedisStore } from "./redis-store.js";

export interface GatewayOptions {
  redisUrl: string;
  host?: string | undefined;
  port?: number | undefined;
  /** Required bearer token on every route but /health-check and stream URLs. */
  apiToken?: string | undefined;
  /** `whsec_` secret for /v1 webhooks; stored in Redis for the replicas (default: shared, generated once). */
  webhookSecret?: string | undefined;
  /** Predictions allowed to wait per model version before 429. */
  queueSize?: number | undefined;
  retentionMs?: number | undefined;
  prefix?: string | undefined;
  bodyLimit?: number | undefined;
  pageSize?: number | undefined;
  fileLimits?: Partial<FileLimitsV1> | undefined;
  logger?: Logger | undefined;
}

export interface RunningGateway {
  url: string;
  port: number;
  server: Server;
  logger: Logger;
  webhookSecret: string;
  close(): Promise<void>;
}

export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  const logger = o.logger ?? createLogger({ level: "info", format: "json" });
  const keys = makeKeys(o.prefix);
  const conn = new RedisConnection(o.redisUrl, { offlineQueue: false, name: "kiln-gateway", logger });
  const sub = conn.duplicate("kiln-gateway-events", true);
  try {
    await conn.waitReady(10_000);
  } catch (err) {
    await Promise.all([conn.close(), sub.close()]);
    throw err;
  }
  const webhookSecret = await ensureWebhookSecret(conn, keys, o.webhookSecret);
  const mirrors = new Mirrors(conn, sub, keys, logger);
  await mirrors.start();
  const files = new RedisFiles(conn, keys, { ...DEFAULT_V1_FILE_LIMITS, ...o.fileLimits });
  const metrics = new MetricsRegistry();
  const created = metrics.counter(
    "kiln_gateway_predictions_created_total",
    "Predictions accepted, by model.",
  );
  const finished = metrics.counter(
    "kiln_gateway_predictions_total",
    "Predictions this gateway saw finish, by model and terminal status.",
  );
  const wait = metrics.histogram(
    "kiln_gateway_queue_wait_seconds",
    "Time from creation until a replica started the prediction.",
  );
  const total = metrics.histogram("kiln_gateway_total_seconds", "Time from creation to the terminal state.");
  const store = new RedisStore({
    conn,
    keys,
    mirrors,
    logger,
    queueSize: o.queueSize ?? FLEET_DEFAULTS.queueSize,
    retentionMs: o.retentionMs ?? FLEET_DEFAULTS.retentionMs,
    uploadId: (url) => files.idOf(url),
    onSubmitted: (r) => created.inc({ model: r.model }),
  });
  mirrors.onTerminal = (r) => {
    const p = r.prediction;
    finished.inc({ model: r.model, status: p.status });
    if (p.startedAt && p.status !== "canceled")
      wait.observe((p.startedAt.getTime() - p.createdAt.getTime()) / 1000);
    if (p.completedAt) total.observe((p.completedAt.getTime() - p.createdAt.getTime()) / 1000);
  };
  addQueueGauges(metrics, conn, keys);
  addFleetCacheMetrics(metrics, conn, keys.cache);

  const router = new Router(logger);
  router.setGuard(makeAuthCheck(o.apiToken));
  router.add(
    "GET",
    "/health-check",
    (_req, res) =>
      sendJson(res, 200, {
        status: conn.ready ? "READY" : "UNAVAILABLE",
        role: "gateway",
        redis: { url: redactUrl(o.redisUrl), connected: conn.ready },
        version: { kiln: RUNTIME_VERSION },
      }),
    { public: true },
  );
  registerMetricsRoute(router, metrics);
  // The same page `kiln serve` has: it only talks to the public /v1 API, which this gateway serves.
  registerPlayground(router);
  const cors = corsPolicy(process.env.KILN_CORS_ORIGINS);
  registerHostedRoutes(router, {
    store,
    files,
    webhookSecret,
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    pageSize: o.pageSize ?? DEFAULT_PAGE_SIZE,
    sse: DEFAULT_SSE_LIMITS,
  });

  const server = createServer(
    { headersTimeout: 15_000, requestTimeout: 120_000, keepAliveTimeout: 5_000, noDelay: true },
    (req, res) => {
      if (!applyCors(req, res, cors)) void router.handle(req, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  files.port = port;
  const host = o.host && o.host !== "0.0.0.0" ? o.host : "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info("gateway listening", { url, redis: redactUrl(o.redisUrl) });
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    server,
    logger,
    webhookSecret,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        mirrors.stop();
        // Held requests (Prefer: wait, streams) get a moment, then go.
        const t = setTimeout(() => server.closeAllConnections(), 2000);
        await stopped;
        clearTimeout(t);
        await Promise.all([sub.close(), conn.close()]);
      })()),
  };
}

/** Queue depth, consumer-group lag and pending per deployed version, and live replicas. */
function addQueueGauges(metrics: MetricsRegistry, conn: RedisConnection, keys: Keys): void {
  const versions = async (): Promise<{ model: string; version: string }[]> => {
    const out: { model: string; version: string }[] = [];
    for (const model of (await conn.call("SMEMBERS", keys.models)) as string[])
      for (const version of (await conn.call("ZRANGE", keys.modelVersions(model), 0, -1)) as string[])
        out.push({ model, version });
    return out;
  };
  metrics.gauge(
    "kiln_redis_queue_length",
    "Entries in each version's stream (waiting + running).",
    async () =>
      Promise.all(
        (await versions()).map(async (labels) => ({
          labels,
          value: Number(await conn.call("XLEN", keys.queue(labels.version))),
        })),
      ),
  );
  metrics.gauge(
    "kiln_redis_group_lag",
    "Per version: entries not yet delivered to a replica (lag) and delivered but unfinished (pending).",
    async () => {
      const out: { labels: Record<string, string>; value: number }[] = [];
      for (const labels of await versions()) {
        let group: Record<string, unknown> | undefined;
        try {
          const info = (await conn.call("XINFO", "GROUPS", keys.queue(labels.version))) as unknown[][];
          group = info.map(pairs).find((g) => g.name === GROUP);
        } catch {
          group = undefined; // no stream yet
        }
        out.push({ labels: { ...labels, kind: "lag" }, value: Number(group?.lag ?? 0) });
        out.push({ labels: { ...labels, kind: "pending" }, value: Number(group?.pending ?? 0) });
      }
      return out;
    },
  );
  metrics.gauge("kiln_fleet_replicas", "Replicas with a live heartbeat, by version.", async () => {
    const counts = new Map<string, number>();
    let cursor = "0";
    do {
      const [next, found] = (await conn.call("SCAN", cursor, "MATCH", keys.replica("*"), "COUNT", 200)) as [
        string,
        string[],
      ];
      cursor = next;
      if (found.length > 0) {
        for (const text of (await conn.call("MGET", ...found)) as (string | null)[]) {
          if (!text) continue;
          const v = (JSON.parse(text) as { version?: string }).version ?? "unknown";
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
      }
    } while (cursor !== "0");
    return [...counts].map(([version, value]) => ({ labels: { version }, value }));
  });
}
