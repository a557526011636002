/**
 * Queue mode (`kiln serve --queue redis://...`): the model server also takes predictions for its version
 * from the version's Redis stream, through the consumer group, as many at a time as it has free slots.
 * Each prediction runs through the server's own runner; its events go back to Redis (EMIT), fenced by
 * the attempt number. A lease (renewed by XCLAIM every lease/3) marks a prediction as owned; after a
 * replica dies, another one's XAUTOCLAIM finds the entry idle past the lease and CLAIM decides: retry
 * once or fail. SIGTERM drains: stop reading, let running predictions finish (bounded), hand back the rest.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Prediction } from "../runtime/core/prediction.js";
import { CapacityError } from "../runtime/core/runner.js";
import type { RunningServer } from "../runtime/server.js";
import { attachWebhook, WebhookSender } from "../runtime/webhooks.js";
import { renderRecord } from "../runtime/v1/render.js";
import { DEFAULT_V1_FILE_LIMITS } from "../runtime/v1/files-store.js";
import { mediaTypeOf } from "../schema/media-types.js";
import { RedisFiles } from "./redis-files.js";
import { webhookSigner } from "../runtime/v1/signing.js";
import { RUNTIME_VERSION } from "../runtime/version.js";
import { buildOpenApi } from "../schema/openapi.js";
import { encodeWire, terminalWire, toWire, type WireEvent } from "./events.js";
import { decodeJob, type Job } from "./job.js";
import { GROUP, makeKeys, type Keys } from "./keys.js";
import { pairs, RedisConnection } from "./redis.js";
import { CLAIM, EMIT, HANDBACK, HEARTBEAT } from "./scripts.js";
import { ensureWebhookSecret, registerVersion } from "./catalog.js";
import { FLEET_DEFAULTS, type LostPolicy, type QueueEnv } from "./options.js";

export interface ReplicaOptions extends QueueEnv {
  /** Consumer name in the group (default host-pid-random). */
  consumer?: string | undefined;
  webhookRetryDelaysMs?: readonly number[] | undefined;
}

export interface QueueReplica {
  consumer: string;
  version: string;
  /** Stops taking work; running predictions finish within `drainMs`, the rest go back to the queue. */
  stop(drainMs?: number): Promise<void>;
}

interface Run {
  id: string;
  entry: string;
  attempt: string;
  job: Job;
  prediction: Prediction | null;
  buffer: WireEvent[];
  chain: Promise<void>;
  flushQueued: boolean;
  flushTimer: NodeJS.Timeout | null;
  /** No more writes: another replica owns it, or it was handed back. */
  detached: boolean;
  dir: string | null;
  files: Map<string, { path: string; name: string }>;
}

type Entry = [string, string[] | null];

const START_DELAY_MS = 5;
const MAX_REDIS_OUTPUT_BYTES = 500 * 1024 * 1024;

export async function startQueueReplica(server: RunningServer, o: ReplicaOptions): Promise<QueueReplica> {
  const replica = new Replica(server, o);
  await replica.start();
  return replica;
}

class Replica implements QueueReplica {
  readonly consumer: string;
  readonly version: string;
  private readonly keys: Keys;
  private readonly conn: RedisConnection;
  private readonly blocking: RedisConnection;
  private readonly sub: RedisConnection;
  private readonly leaseMs: number;
  private readonly policy: LostPolicy;
  private readonly retentionMs: number;
  private readonly runs = new Map<string, Run>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private taking = 0;
  private sender: WebhookSender | null = null;
  private readonly files: RedisFiles;
  private registered = false;

  constructor(
    private readonly server: RunningServer,
    private readonly o: ReplicaOptions,
  ) {
    this.consumer = o.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.version = server.hosted.version;
    this.keys = makeKeys(o.prefix);
    this.leaseMs = o.leaseMs ?? FLEET_DEFAULTS.leaseMs;
    this.policy = o.onLost ?? FLEET_DEFAULTS.onLost;
    this.retentionMs = o.retentionMs ?? FLEET_DEFAULTS.retentionMs;
    const logger = server.logger;
    this.conn = new RedisConnection(o.redisUrl, { offlineQueue: true, name: `kiln-replica`, logger });
    this.blocking = this.conn.duplicate("kiln-replica-read");
    this.sub = this.conn.duplicate("kiln-replica-cancel");
    // Trained weights travel as one Redis value: up to its 512 MiB bulk limit, less room for the rest.
    this.files = new RedisFiles(this.conn, this.keys, {
      ...DEFAULT_V1_FILE_LIMITS,
      maxFileBytes: MAX_REDIS_OUTPUT_BYTES,
    });
  }

  async start(): Promise<void> {
    const s = this.server;
    await this.conn.waitReady(10_000);
    await this.sub.subscribe([this.keys.cancelChannel], (_ch, id) => {
      if (this.runs.has(id)) s.runner.cancel(id);
    });
    s.fileResolvers.push((url) => {
      for (const r of this.runs.values()) {
        const f = r.files.get(url);
        if (f) return f;
      }
      return null;
    });
    s.runner.on("slot-freed", () => this.wake());
    // The readiness file (the orchestrator's probe) waits for the version's registration: before it,
    // the gateway would answer "not deployed" for a replica that looks ready.
    const release = s.holdReadiness();
    s.health.on("ready", () => {
      void this.register().then(() => {
        release();
        this.wake();
      });
    });
    if (s.health.ready) {
      await this.register();
      release();
    }
    s.onShutdown(() => this.stop(this.o.drainTimeoutMs ?? FLEET_DEFAULTS.drainTimeoutMs));
    this.addMetrics();
    const beat = Math.max(100, Math.floor(this.leaseMs / 3));
    this.timers.push(setInterval(() => void this.heartbeat(), beat));
    this.timers.push(setInterval(() => void this.reclaim(), Math.max(150, Math.floor(this.leaseMs / 2))));
    this.loopDone = this.loop();
    s.logger.info("queue mode: consuming predictions from Redis", {
      consumer: this.consumer,
      version: this.version,
      queue: this.keys.queue(this.version),
      lease_s: this.leaseMs / 1000,
      on_lost: this.policy,
    });
  }

  stop(drainMs: number = FLEET_DEFAULTS.drainTimeoutMs): Promise<void> {
    this.stopped ??= this.drain(drainMs);
    return this.stopped;
  }

  private async drain(drainMs: number): Promise<void> {
    const s = this.server;
    this.stopping = true;
    this.wake();
    s.setReady(false);
    this.blocking.disconnect(); // ends a blocked XREADGROUP now; what it had read stays pending (reclaimed)
    await this.loopDone;
    const pending = [...this.runs.values()].map((r) => r.prediction?.finished);
    if (pending.length > 0) {
      s.logger.info("draining: waiting for running predictions", {
        running: pending.length,
        drain_ms: drainMs,
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(pending), new Promise((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
    }
    for (const r of [...this.runs.values()]) {
      if (r.prediction && !r.prediction.terminal) await this.handBack(r, "the replica is shutting down");
    }
    await Promise.all([...this.runs.values()].map((r) => r.chain));
    for (const t of this.timers) clearInterval(t);
    await this.conn.call("DEL", this.keys.replica(this.consumer)).catch(() => undefined);
    await this.sender?.flush(5_000);
    await this.sub.close();
    await this.conn.close();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private free(): number {
    const r = this.server.runner;
    return r.capacity - r.inFlight - this.taking;
  }

  private canTake(): boolean {
    return !this.stopping && this.server.health.ready && this.registered && this.free() > 0;
  }

  private async loop(): Promise<void> {
    const queue = this.keys.queue(this.version);
    let backoff = 100;
    while (!this.stopping) {
      if (!this.canTake()) {
        await this.sleep(1000);
        continue;
      }
      let reply: unknown;
      try {
        reply = await this.blocking.call(
          "XREADGROUP",
          "GROUP",
          GROUP,
          this.consumer,
          "COUNT",
          this.free(),
          "BLOCK",
          1000,
          "STREAMS",
          queue,
          ">",
        );
        backoff = 100;
      } catch (err) {
        if (this.stopping) break;
        if (/NOGROUP/.test((err as Error).message)) await this.ensureGroup();
        else {
          this.server.logger.warn("reading the queue failed; retrying", { err, retry_ms: backoff });
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, 2000);
        }
        continue;
      }
      const streams = (reply ?? []) as [string, Entry[]][];
      for (const [, entries] of streams) for (const e of entries) await this.take(e);
    }
  }

  private async ensureGroup(): Promise<void> {
    await this.conn
      .call("XGROUP", "CREATE", this.keys.queue(this.version), GROUP, "0", "MKSTREAM")
      .catch((err: Error) => {
        if (!/BUSYGROUP/.test(err.message)) throw err;
      });
  }

  private async register(): Promise<void> {
    const s = this.server;
    const schema = s.health.loaded?.schema;
    if (!schema) return;
    await this.ensureGroup();
    await registerVersion(this.conn, this.keys, {
      model: s.hosted.model,
      version: this.version,
      schema,
      openapi: s.openapi() ?? buildOpenApi(schema, { kilnVersion: RUNTIME_VERSION }),
      cogVersion: `kiln-${RUNTIME_VERSION}`,
    });
    this.registered = true;
    await this.beat();
  }

  /** One delivered or reclaimed queue entry. */
  private async take([entry, fields]: Entry): Promise<void> {
    const id = fieldValue(fields, "id");
    const keys = this.keys;
    if (!id) {
      await this.conn.pipeline([
        ["XACK", keys.queue(this.version), GROUP, entry],
        ["XDEL", keys.queue(this.version), entry],
      ]);
      return;
    }
    this.taking++;
    try {
      const claimed = (await this.conn.script(
        CLAIM,
        [keys.prediction(id), keys.events(id), keys.queue(this.version)],
        [
          this.consumer,
          this.policy,
          GROUP,
          entry,
          new Date().toISOString(),
          this.retentionMs,
          keys.eventsChannel,
          id,
          Math.round(this.leaseMs / 100) / 10,
        ],
      )) as string[];
      if (claimed[0] !== "run") {
        this.server.logger.info("queue entry not run", { id, reason: claimed[0] });
        return;
      }
      const job = decodeJob(claimed[2]);
      const run: Run = {
        id,
        entry,
        attempt: claimed[1]!,
        job,
        prediction: null,
        buffer: [],
        chain: Promise.resolve(),
        flushQueued: false,
        flushTimer: null,
        detached: false,
        dir: null,
        files: new Map(),
      };
      this.runs.set(id, run);
      await this.startRun(run);
    } catch (err) {
      this.server.logger.error("could not take a queued prediction", { id, err });
    } finally {
      this.taking--;
    }
  }

  private async startRun(run: Run): Promise<void> {
    const s = this.server;
    const job = run.job;
    try {
      await this.fetchFiles(run);
    } catch (err) {
      return this.failUnstarted(run, `could not fetch an uploaded input file: ${(err as Error).message}`);
    }
    const created = s.runner.create({
      id: job.id,
      kind: job.kind,
      input: job.input,
      cache: job.cache,
      createdAt: new Date(job.created_at),
      // A training's weights go to the fleet's /v1/files (any gateway serves them), not into events.
      outputFiles: job.kind === "train" ? (path) => this.keepOutput(path, job.base) : undefined,
    });
    if (!created.ok) {
      const detail = created.errors.map((e) => `${e.loc.slice(1).join(".")}: ${e.msg}`).join("; ");
      return this.failUnstarted(run, `the input does not fit this replica's version: ${detail}`);
    }
    const p = created.prediction;
    run.prediction = p;
    p.subscribe((e, pred) => this.push(run, toWire(e, pred)));
    if (job.webhook) {
      const sender = await this.webhookSender();
      attachWebhook(p, {
        url: job.webhook.url,
        filter: new Set(job.webhook.filter),
        throttleMs: 500,
        sender,
        render: () =>
          renderRecord({
            prediction: p,
            base: job.base,
            model: job.model,
            version: job.version,
            seq: 0,
            destination: job.destination ?? undefined,
          }),
      });
    }
    try {
      s.runner.start(p);
    } catch (err) {
      if (err instanceof CapacityError) {
        // The container API took the slot in the meantime: someone else runs it.
        await this.handBack(run, "no free slot after all");
        return;
      }
      throw err;
    }
  }

  private failUnstarted(run: Run, error: string): Promise<void> {
    this.pushRaw(run, terminalWire("failed", error));
    return run.chain;
  }

  private push(run: Run, e: WireEvent): void {
    if (run.detached) return;
    this.pushRaw(run, e);
  }

  /**
   * Buffers events and writes them in one EMIT per turn of the event loop, in order. A lone `start`
   * waits a few ms for company: a short prediction's start and completion then cost one round trip.
   */
  private pushRaw(run: Run, e: WireEvent): void {
    run.buffer.push(e);
    const urgent = e.t !== "start";
    if (run.flushQueued && !(urgent && run.flushTimer)) return;
    if (run.flushTimer) clearTimeout(run.flushTimer);
    run.flushTimer = null;
    run.flushQueued = true;
    const go = (): void => {
      run.flushTimer = null;
      run.chain = run.chain.then(() => this.flush(run));
    };
    if (urgent) setImmediate(go);
    else run.flushTimer = setTimeout(go, START_DELAY_MS);
  }

  private async flush(run: Run): Promise<void> {
    run.flushQueued = false;
    const batch = run.buffer.splice(0);
    if (batch.length === 0 || run.detached) return;
    const keys = this.keys;
    const args: (string | number)[] = [run.attempt, keys.eventsChannel, run.id, GROUP, this.retentionMs];
    for (const e of batch) args.push(...encodeWire(e).filter((_, i) => i % 2 === 1));
    let result: unknown;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.conn.script(
          EMIT,
          [keys.prediction(run.id), keys.events(run.id), keys.queue(this.version)],
          args,
        );
        break;
      } catch (err) {
        if (attempt >= 20) {
          this.server.logger.error("could not write prediction events to Redis", { id: run.id, err });
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    if (result === -1 || result === -2) {
      // Another replica holds the current attempt (our lease lapsed), or it already ended: stop here.
      this.server.logger.warn("lost the prediction to another replica; canceling the local run", {
        id: run.id,
      });
      run.detached = true;
      this.server.runner.cancel(run.id);
    }
    if (batch.some((e) => e.t === "completed") || run.detached) await this.release(run);
  }

  private async release(run: Run): Promise<void> {
    if (this.runs.get(run.id) !== run) return;
    this.runs.delete(run.id);
    if (run.dir) await rm(run.dir, { recursive: true, force: true }).catch(() => undefined);
    this.wake();
  }

  private async handBack(run: Run, why: string): Promise<void> {
    if (run.detached) return;
    run.detached = true;
    const keys = this.keys;
    const result = await this.conn
      .script(
        HANDBACK,
        [keys.prediction(run.id), keys.events(run.id), keys.queue(this.version)],
        [GROUP, run.attempt, this.consumer, keys.eventsChannel, run.id],
      )
      .catch((err: unknown) => {
        this.server.logger.error("could not hand a prediction back", { id: run.id, err });
        return "error";
      });
    if (result === "has-output") {
      run.detached = false;
      run.buffer.splice(0);
      this.pushRaw(
        run,
        terminalWire("failed", `${why} and the prediction had already streamed output, so it is not re-run`),
      );
      run.detached = true;
    } else {
      this.server.logger.info("handed a prediction back to the queue", { id: run.id, why, result });
    }
    if (run.prediction && !run.prediction.terminal) this.server.runner.cancel(run.id);
    await run.chain;
    await this.release(run);
  }

  private async fetchFiles(run: Run): Promise<void> {
    const refs = Object.entries(run.job.files);
    if (refs.length === 0) return;
    run.dir = await mkdtemp(join(tmpdir(), "kiln-fleet-in-"));
    let n = 0;
    for (const [url, fileId] of refs) {
      const reply = (await this.conn.callBuffer(
        "HMGET",
        this.keys.file(fileId),
        "meta",
        "content",
      )) as (Buffer | null)[];
      const [meta, content] = reply;
      if (!meta || !content) throw new Error(`upload ${fileId} is gone (expired or deleted)`);
      const name = (JSON.parse(meta.toString("utf8")) as { name?: string }).name ?? "file";
      const path = join(run.dir, `${n++}`);
      await writeFile(path, content);
      run.files.set(url, { path, name });
    }
  }

  /** Stores one output file as a fleet upload; its URL (on the gateway the client used) is the output. */
  private async keepOutput(path: string, base: string): Promise<string> {
    const f = await this.files.create(await readFile(path), basename(path), mediaTypeOf(path), {});
    return `${base}/v1/files/${f.id}/download`;
  }

  private async webhookSender(): Promise<WebhookSender> {
    if (this.sender) return this.sender;
    const secret = await ensureWebhookSecret(this.conn, this.keys, undefined);
    this.sender ??= new WebhookSender({
      logger: this.server.logger,
      retryDelaysMs: this.o.webhookRetryDelaysMs,
      headers: webhookSigner(secret),
    });
    return this.sender;
  }

  private async beat(): Promise<void> {
    const s = this.server;
    await this.conn.call(
      "SET",
      this.keys.replica(this.consumer),
      JSON.stringify({
        consumer: this.consumer,
        model: s.hosted.model,
        version: this.version,
        slots: s.runner.capacity,
        in_flight: s.runner.inFlight,
        ready: s.health.ready && !this.stopping,
        at: new Date().toISOString(),
      }),
      "PX",
      this.leaseMs * 2,
    );
  }

  private async heartbeat(): Promise<void> {
    if (!this.conn.ready) return;
    try {
      if (this.registered) await this.beat();
      const keys = this.keys;
      for (const run of [...this.runs.values()]) {
        if (run.detached) continue;
        const r = await this.conn.script(
          HEARTBEAT,
          [keys.queue(this.version), keys.prediction(run.id)],
          [GROUP, this.consumer, run.entry, run.attempt],
        );
        if (r === "cancel") this.server.runner.cancel(run.id);
        else if (r === "lost" && !run.detached) {
          this.server.logger.warn("lease lost: another replica took this prediction over", { id: run.id });
          run.detached = true;
          this.server.runner.cancel(run.id);
          await this.release(run);
        }
      }
    } catch (err) {
      this.server.logger.debug("heartbeat failed", { err });
    }
  }

  /** Takes over entries whose replica stopped renewing its lease. */
  private async reclaim(): Promise<void> {
    if (!this.canTake() || !this.conn.ready) return;
    try {
      const reply = (await this.conn.call(
        "XAUTOCLAIM",
        this.keys.queue(this.version),
        GROUP,
        this.consumer,
        this.leaseMs,
        "0-0",
        "COUNT",
        this.free(),
      )) as [string, Entry[], string[]?];
      for (const e of reply[1] ?? []) if (e[1]) await this.take(e);
    } catch (err) {
      if (!/NOGROUP/.test((err as Error).message)) this.server.logger.debug("reclaim failed", { err });
    }
  }

  private addMetrics(): void {
    const m = this.server.metrics;
    const queue = this.keys.queue(this.version);
    const labels = { queue: "redis", version: this.version };
    m.gauge(
      "kiln_redis_queue_length",
      "Entries in this version's Redis stream (waiting + running).",
      async () => [{ labels, value: Number(await this.conn.call("XLEN", queue)) }],
    );
    m.gauge(
      "kiln_redis_group_lag",
      "Entries of this version's stream not yet delivered to any replica (what KEDA scales on).",
      async () => {
        const info = (await this.conn.call("XINFO", "GROUPS", queue)) as unknown[][];
        const group = info.map(pairs).find((g) => g.name === GROUP);
        return [
          { labels: { ...labels, kind: "lag" }, value: Number(group?.lag ?? 0) },
          { labels: { ...labels, kind: "pending" }, value: Number(group?.pending ?? 0) },
        ];
      },
    );
  }
}

function fieldValue(fields: string[] | null, name: string): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
