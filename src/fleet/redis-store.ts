/**
 * The fleet's PredictionStore: predictions are queued on their version's Redis stream (SUBMIT, bounded),
 * looked up and listed from Redis, and rendered from mirrors (mirrors.ts). Any gateway answers for any
 * prediction id, because nothing a response needs lives only in one gateway.
 */
import { preparePrediction } from "../runtime/core/runner.js";
import {
  QueueFullError,
  type Page,
  type PredictionRecord,
  type PredictionStore,
  type PredictionTarget,
  type PrepareOptions,
  type PrepareResult,
  type VersionInfo,
  type WebhookSpec,
} from "../runtime/core/store.js";
import type { Logger } from "../runtime/logger.js";
import type { PredictorKind } from "../runtime/protocol.js";
import { hostedError, invalidInput, noTrainer } from "../runtime/v1/errors.js";
import { Catalog, UnknownTargetError } from "./catalog.js";
import { encodeJob, type Job } from "./job.js";
import { GROUP, type Keys } from "./keys.js";
import type { Mirrors } from "./mirrors.js";
import { RedisUnavailableError, type RedisConnection } from "./redis.js";
import { CANCEL, SUBMIT } from "./scripts.js";

export interface RedisStoreOptions {
  conn: RedisConnection;
  keys: Keys;
  mirrors: Mirrors;
  logger: Logger;
  /** Predictions allowed to wait per version before 429. */
  queueSize: number;
  retentionMs: number;
  /** File ids of this fleet's uploads named by an input URL, or null when it is not one. */
  uploadId: (url: string) => Promise<string | null>;
  /** Called for each accepted prediction (metrics). */
  onSubmitted?: (record: PredictionRecord) => void;
}

export class RedisStore implements PredictionStore {
  readonly catalog: Catalog;

  constructor(private readonly o: RedisStoreOptions) {
    this.catalog = new Catalog(o.conn, o.keys);
  }

  prepare(target: PredictionTarget, input: unknown, options: PrepareOptions = {}): Promise<PrepareResult> {
    return unavailableAs503(async () => {
      let v;
      try {
        v = await this.catalog.resolve(target);
      } catch (err) {
        if (!(err instanceof UnknownTargetError)) throw err;
        if (target.kind === "version")
          throw invalidInput([{ loc: ["body", "version"], msg: err.message, type: "value_error" }]);
        throw hostedError(404, "Not found", err.message);
      }
      const kind = options.kind ?? "predict";
      // Replicas of a version run its image: the trainer is there when the registered schema has one.
      if (kind === "train" && !v.schema.train) throw noTrainer(v.model, v.version);
      // The Cache-Control travels with the job: the replica's output cache honours it.
      const created = preparePrediction(v.schema, { kind, input, cache: options.cache }, this.o.logger);
      if (!created.ok) return created;
      return { ok: true, prediction: created.prediction, model: v.model, version: v.version };
    });
  }

  submit(record: PredictionRecord, webhook: WebhookSpec | null): Promise<void> {
    return unavailableAs503(async () => {
      const p = record.prediction;
      const job: Job = {
        id: p.id,
        kind: p.kind,
        destination: record.destination ?? null,
        model: record.model,
        version: record.version,
        base: record.base,
        input: p.input,
        publicInput: p.publicInput,
        iterator: p.iterator,
        created_at: p.createdAt.toISOString(),
        webhook: webhook ? { url: webhook.url, filter: [...webhook.filter] } : null,
        files: await this.uploads(p.input),
        cache: p.cacheDirective,
      };
      const k = this.o.keys;
      // Mirror first: a fast replica's first events may arrive before SUBMIT's reply does.
      this.o.mirrors.adopt(record);
      const encoded = encodeJob(job);
      let reply: number[];
      try {
        reply = (await this.o.conn.script(
          SUBMIT,
          [k.queue(record.version), k.prediction(p.id), indexOf(k, p.kind), k.seq],
          [p.id, encoded, this.o.queueSize, GROUP],
        )) as number[];
        // ioredis sends a command again after a reconnect when its reply was lost: when the record
        // that is there is this very job, that was our own first run of SUBMIT, and it is accepted.
        if (reply[0] === -2) reply = await this.ownEarlierSubmit(p.id, encoded);
      } catch (err) {
        this.o.mirrors.forget(p.id);
        throw err;
      }
      if (reply[0] === -1) {
        this.o.mirrors.forget(p.id);
        throw new QueueFullError(this.o.queueSize);
      }
      if (reply[0] === -2) {
        this.o.mirrors.forget(p.id);
        throw new Error(`prediction id ${p.id} already exists`);
      }
      record.seq = Number(reply[0]);
      this.o.onSubmitted?.(record);
    });
  }

  /** [seq] when the stored record holds exactly `encoded` (a resent SUBMIT), else [-2]. */
  private async ownEarlierSubmit(id: string, encoded: string): Promise<number[]> {
    const [stored, seq] = (await this.o.conn.call("HMGET", this.o.keys.prediction(id), "job", "seq")) as [
      string | null,
      string | null,
    ];
    return stored === encoded && seq !== null ? [Number(seq)] : [-2];
  }

  get(id: string): Promise<PredictionRecord | undefined> {
    return unavailableAs503(() => this.o.mirrors.get(id));
  }

  page(
    cursor: string | null,
    size: number,
    kind: PredictorKind = "predict",
  ): Promise<Page<PredictionRecord>> {
    return unavailableAs503(async () => {
      const m = cursor ? /^([ab])(\d+)$/.exec(cursor) : null;
      if (cursor && !m) throw new RangeError(`invalid cursor ${JSON.stringify(cursor)}`);
      const k = { ...this.o.keys, index: indexOf(this.o.keys, kind) };
      let ids: string[];
      if (!m) ids = (await this.o.conn.call("ZREVRANGE", k.index, 0, size - 1)) as string[];
      else if (m[1] === "b")
        ids = (await this.o.conn.call(
          "ZREVRANGEBYSCORE",
          k.index,
          `(${m[2]}`,
          "-inf",
          "LIMIT",
          0,
          size,
        )) as string[];
      else
        ids = (
          (await this.o.conn.call("ZRANGEBYSCORE", k.index, `(${m[2]}`, "+inf", "LIMIT", 0, size)) as string[]
        ).reverse();
      const items: PredictionRecord[] = [];
      const gone: string[] = [];
      for (const id of ids) {
        const r = await this.o.mirrors.get(id);
        if (r) items.push(r);
        else gone.push(id);
      }
      if (gone.length > 0) await this.o.conn.call("ZREM", k.index, ...gone); // expired after retention
      const [first, last] = (await this.o.conn.pipeline([
        ["ZRANGE", k.index, 0, 0, "WITHSCORES"],
        ["ZREVRANGE", k.index, 0, 0, "WITHSCORES"],
      ])) as [string[], string[]];
      const minSeq = Number(first[1] ?? 0);
      const maxSeq = Number(last[1] ?? 0);
      const oldest = items[items.length - 1];
      const newest = items[0];
      return {
        items,
        next: oldest && oldest.seq > minSeq ? `b${oldest.seq}` : null,
        previous: newest && newest.seq < maxSeq ? `a${newest.seq}` : null,
      };
    });
  }

  cancel(record: PredictionRecord): Promise<void> {
    return unavailableAs503(async () => {
      const k = this.o.keys;
      const id = record.prediction.id;
      await this.o.conn.script(
        CANCEL,
        [k.prediction(id), k.events(id), k.queue(record.version)],
        [GROUP, k.eventsChannel, k.cancelChannel, id, new Date().toISOString(), this.o.retentionMs],
      );
    });
  }

  count(): Promise<number> {
    return unavailableAs503(async () => Number(await this.o.conn.call("ZCARD", this.o.keys.index)));
  }

  models(): Promise<string[]> {
    return unavailableAs503(() => this.catalog.models());
  }

  versions(model: string): Promise<VersionInfo[] | null> {
    return unavailableAs503(() => this.catalog.versions(model));
  }

  /** Input URLs (top level, or in lists) that name this fleet's uploads. */
  private async uploads(input: Record<string, unknown>): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const consider = async (v: unknown): Promise<void> => {
      if (typeof v !== "string" || !v.includes("/v1/files/")) return;
      const id = await this.o.uploadId(v);
      if (id) out[v] = id;
    };
    for (const v of Object.values(input)) {
      if (Array.isArray(v)) for (const item of v) await consider(item);
      else await consider(v);
    }
    return out;
  }
}

/** Predictions and trainings are listed from their own sorted sets. */
function indexOf(keys: Keys, kind: PredictorKind): string {
  return kind === "train" ? keys.trainings : keys.index;
}

/** Redis being away is the fleet's 503 (retry later), not a 500. */
async function unavailableAs503<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RedisUnavailableError)
      throw hostedError(503, "Service unavailable", `the fleet's queue is unavailable: ${err.message}`, {
        "retry-after": "1",
      });
    throw err;
  }
}
