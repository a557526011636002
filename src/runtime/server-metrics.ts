/**
 * The model server's /metrics: predictions by status, queue-wait / setup / predict durations, in-flight
 * and slots, the local /v1 queue, worker exits and restarts, the output cache's counters (when it has
 * one). Queue mode adds the Redis stream's depth and
 * consumer-group lag (fleet/replica.ts) to the same registry.
 */
import type { OutputCache, OutputCacheCounters } from "./cache/output-cache.js";
import type { PredictionQueue } from "./core/queue.js";
import type { PredictionRunner } from "./core/runner.js";
import type { Health } from "./health.js";
import type { Router } from "./http/router.js";
import { METRICS_CONTENT_TYPE, MetricsRegistry } from "./metrics.js";
import type { WorkerSupervisor } from "./worker-supervisor.js";

export interface ServerMetricsDeps {
  runner: PredictionRunner;
  health: Health;
  worker: WorkerSupervisor;
  queue: PredictionQueue;
  /** The output cache, when the server has one. */
  cache?: OutputCache | undefined;
  /** True once the server is shutting down (the worker's exit is then expected). */
  stopping: () => boolean;
}

export function createServerMetrics(d: ServerMetricsDeps): MetricsRegistry {
  const m = new MetricsRegistry();
  const total = m.counter("kiln_predictions_total", "Predictions finished, by terminal status.");
  const wait = m.histogram(
    "kiln_prediction_queue_wait_seconds",
    "Time from creation until the prediction started running.",
  );
  const predict = m.histogram("kiln_prediction_predict_seconds", "Time the predictor spent (predict_time).");
  const setup = m.histogram("kiln_setup_seconds", "Duration of setup() of each worker start.");
  const exits = m.counter(
    "kiln_worker_exits_total",
    "Times the predictor worker process ended unexpectedly.",
  );
  const restarts = m.counter("kiln_worker_restarts_total", "Times a predictor worker was started again.");
  m.gauge("kiln_predictions_in_flight", "Predictions running now.", () => [{ value: d.runner.inFlight }]);
  m.gauge("kiln_prediction_slots", "Predictions this server runs at once.", () => [
    { value: d.runner.capacity },
  ]);
  m.gauge("kiln_queue_depth", "Predictions waiting for a slot, by queue.", () => [
    { labels: { queue: "local" }, value: d.queue.length },
  ]);
  m.gauge("kiln_ready", "1 when the model is ready for predictions.", () => [
    { value: d.health.ready ? 1 : 0 },
  ]);
  d.runner.on("completed", (p) => {
    total.inc({ status: p.status });
    if (p.startedAt && p.status !== "canceled")
      wait.observe((p.startedAt.getTime() - p.createdAt.getTime()) / 1000);
    if (typeof p.metrics.predict_time === "number") predict.observe(p.metrics.predict_time);
  });
  d.health.on("ready", () => {
    const { started_at, completed_at } = d.health.setup;
    if (started_at && completed_at) setup.observe((Date.parse(completed_at) - Date.parse(started_at)) / 1000);
  });
  let loads = 0;
  d.worker.on("message", (msg) => {
    if (msg.type === "loaded" && ++loads > 1) restarts.inc();
  });
  d.worker.on("exit", () => {
    if (!d.stopping()) exits.inc();
  });
  const cache = d.cache;
  if (cache) addCacheMetrics(m, () => cache.counters());
  return m;
}

/**
 * The output cache's families. Lookups are this server's; entries, bytes and evictions are the store's
 * (for the fleet's shared store: fleet-wide, the same figure on every replica). One read per scrape.
 */
function addCacheMetrics(m: MetricsRegistry, read: () => Promise<OutputCacheCounters>): void {
  // Read once per scrape: the first family of the group reads, the others reuse its reading.
  let snapshot: Promise<OutputCacheCounters> | null = null;
  const get = (first: boolean): Promise<OutputCacheCounters> => {
    if (first || !snapshot) snapshot = read();
    return snapshot;
  };
  let families = 0;
  const family = (
    name: string,
    help: string,
    pick: (c: OutputCacheCounters) => number,
    type: "gauge" | "counter" = "counter",
  ): void => {
    const first = families++ === 0;
    m.gauge(name, help, async () => [{ value: pick(await get(first)) }], type);
  };
  family("kiln_cache_hits_total", "Predictions answered from the output cache.", (c) => c.hits);
  family(
    "kiln_cache_misses_total",
    "Cacheable predictions the model ran (not in the cache).",
    (c) => c.misses,
  );
  family(
    "kiln_cache_skipped_total",
    "Predictions that did not use the cache (Cache-Control: no-store, or a seed left to the model).",
    (c) => c.skipped,
  );
  family("kiln_cache_stores_total", "Outputs written to the cache.", (c) => c.stores);
  family("kiln_cache_errors_total", "Lookups the store could not answer (the model ran).", (c) => c.errors);
  family("kiln_cache_evictions_total", "Entries evicted to stay within the byte budget.", (c) => c.evictions);
  family(
    "kiln_cache_bytes",
    "Bytes the cache holds (entries and their file blobs).",
    (c) => c.bytes,
    "gauge",
  );
  family("kiln_cache_entries", "Entries in the cache.", (c) => c.entries, "gauge");
}

/** GET /metrics on a router; the router's guard asks for the API token when one is set. */
export function registerMetricsRoute(router: Router, metrics: MetricsRegistry): void {
  router.add("GET", "/metrics", async (req, res) => {
    const body = await metrics.render();
    res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": Buffer.byteLength(body) });
    res.end(req.method === "HEAD" ? undefined : body);
  });
}
