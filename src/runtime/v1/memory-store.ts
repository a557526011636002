/**
 * The in-memory PredictionStore of `kiln serve`: the one local model's runner behind a bounded queue,
 * with a bounded registry of what /v1 created. Webhooks are attached here, where the prediction runs.
 */
import { basename } from "node:path";
import type { PredictionRunner } from "../core/runner.js";
import type { PredictorKind } from "../protocol.js";
import { mediaTypeOf } from "../../schema/media-types.js";
import type { PredictionQueue } from "../core/queue.js";
import type {
  Page,
  PredictionRecord,
  PredictionStore,
  PredictionTarget,
  PrepareOptions,
  PrepareResult,
  VersionInfo,
  WebhookSpec,
} from "../core/store.js";
import type { Health } from "../health.js";
import { attachWebhook, type WebhookSender } from "../webhooks.js";
import { hostedError, noTrainer } from "./errors.js";
import type { FileStore } from "./files-store.js";
import type { HostedRegistry } from "./registry.js";
import { renderRecord } from "./render.js";

export interface MemoryStoreOptions {
  runner: PredictionRunner;
  health: Health;
  queue: PredictionQueue;
  registry: HostedRegistry;
  /** /v1/files: where trainings' output files are kept. */
  files: FileStore;
  sender: WebhookSender;
  throttleMs: number;
  openapi: () => unknown;
  /** `owner/name` reported for predictions created by version. */
  model: string;
  version: string;
  versionCreatedAt: string;
  cogVersion: string;
}

export class MemoryStore implements PredictionStore {
  constructor(private readonly o: MemoryStoreOptions) {}

  prepare(target: PredictionTarget, input: unknown, options: PrepareOptions = {}): Promise<PrepareResult> {
    ensureCanRun(this.o.health);
    // Every model, deployment and version name reaches the one model served here.
    const model = target.kind === "version" ? this.o.model : target.name;
    const kind = options.kind ?? "predict";
    if (kind === "train" && !this.o.health.loaded?.schema.train) throw noTrainer(model, this.o.version);
    const base = options.base;
    const created = this.o.runner.create({
      kind,
      input,
      cache: options.cache,
      outputFiles: kind === "train" && base !== undefined ? (path) => this.keepOutput(path, base) : undefined,
    });
    if (!created.ok) return Promise.resolve(created);
    return Promise.resolve({ ok: true, prediction: created.prediction, model, version: this.o.version });
  }

  /** A training's output file joins /v1/files; its download URL is the output. */
  private async keepOutput(path: string, base: string): Promise<string> {
    const f = await this.o.files.adopt(path, basename(path), mediaTypeOf(path));
    // Fed back as an input (a next round of training), the URL is read from disk, not over HTTP.
    this.o.files.hosts.add(new URL(base).hostname);
    return `${base}/v1/files/${f.id}/download`;
  }

  submit(record: PredictionRecord, webhook: WebhookSpec | null): Promise<void> {
    const p = record.prediction;
    if (webhook) {
      attachWebhook(p, {
        url: webhook.url,
        filter: new Set(webhook.filter),
        throttleMs: this.o.throttleMs,
        sender: this.o.sender,
        render: () => renderRecord(record),
      });
    }
    this.o.queue.submit(p);
    this.o.registry.add(record);
    return Promise.resolve();
  }

  get(id: string): Promise<PredictionRecord | undefined> {
    const r = this.o.registry.get(id);
    if (!r && this.o.registry.wasEvicted(id)) {
      throw hostedError(
        404,
        "Not found",
        `prediction ${id} finished and was evicted from this server's history, which keeps the most recent ` +
          `finished predictions within ${this.o.registry.retainBytes} bytes (KILN_RETAIN_BYTES); fetch results ` +
          "sooner or use a webhook",
      );
    }
    return Promise.resolve(r);
  }

  page(
    cursor: string | null,
    size: number,
    kind: PredictorKind = "predict",
  ): Promise<Page<PredictionRecord>> {
    return Promise.resolve(this.o.registry.page(cursor, size, kind));
  }

  cancel(record: PredictionRecord): Promise<void> {
    const p = record.prediction;
    if (!this.o.queue.cancel(p)) this.o.runner.cancel(p.id);
    return Promise.resolve();
  }

  count(): Promise<number> {
    return Promise.resolve(this.o.registry.size);
  }

  models(): Promise<string[]> {
    return Promise.resolve([this.o.model]);
  }

  versions(): Promise<VersionInfo[]> {
    const schema = this.o.openapi();
    if (!schema)
      throw hostedError(
        503,
        "Service unavailable",
        "the model is still loading, so its schema is not known yet",
        { "retry-after": "1" },
      );
    return Promise.resolve([
      {
        id: this.o.version,
        created_at: this.o.versionCreatedAt,
        cog_version: this.o.cogVersion,
        openapi_schema: schema,
      },
    ]);
  }
}

function ensureCanRun(h: Health): void {
  if (h.phase === "setup_failed")
    throw hostedError(503, "Service unavailable", `setup failed: ${h.setupError ?? "unknown error"}`);
  if (h.phase === "defunct")
    throw hostedError(503, "Service unavailable", `the predictor worker is gone: ${h.defunctReason ?? ""}`);
  if (!h.loaded)
    throw hostedError(503, "Service unavailable", "the model is still loading; retry in a moment", {
      "retry-after": "1",
    });
}
