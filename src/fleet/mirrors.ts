/**
 * A gateway's view of predictions: each one is a core Prediction (the same state machine `kiln serve`
 * uses) rebuilt from its Redis record and kept current by replaying its event stream. Pub/sub batches
 * carry the events themselves (with their index), so a live mirror usually needs no extra round trip;
 * a gap (missed message, Redis restart) is filled from the stream with XRANGE.
 */
import { Prediction } from "../runtime/core/prediction.js";
import { makeRedactor } from "../runtime/redact.js";
import type { PredictionRecord } from "../runtime/core/store.js";
import type { Logger } from "../runtime/logger.js";
import { applyWire, decodeWire, type WireEvent } from "./events.js";
import { decodeJob } from "./job.js";
import type { Keys } from "./keys.js";
import type { RedisConnection } from "./redis.js";

interface Mirror {
  record: PredictionRecord;
  /** Events applied so far (the index the next pub/sub batch should start at). */
  applied: number;
  /** Stream id of the last applied event (XRANGE resumes after it). */
  lastId: string;
  catchingUp: Promise<void> | null;
  updatedAt: number;
}

interface Batch {
  id: string;
  k: number;
  ev: [string, string, string][];
}

const MAX_TERMINAL = 5000;
const POLL_MS = 1000;

export class Mirrors {
  private readonly live = new Map<string, Mirror>();
  private timer: NodeJS.Timeout | null = null;
  /** Called once per prediction that turns terminal while mirrored here. */
  onTerminal: (r: PredictionRecord) => void = () => undefined;

  constructor(
    private readonly conn: RedisConnection,
    private readonly sub: RedisConnection,
    private readonly keys: Keys,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.sub.subscribe([this.keys.eventsChannel], (_ch, msg) => this.onBatch(msg));
    // After a reconnect pub/sub may have missed batches: re-read what is still running.
    this.sub.onReconnect(() => this.catchUpAll(0));
    this.timer = setInterval(() => this.catchUpAll(POLL_MS), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A prediction this gateway just queued: its own Prediction object becomes the mirror. */
  adopt(record: PredictionRecord): void {
    this.live.set(record.prediction.id, {
      record,
      applied: 0,
      lastId: "0-0",
      catchingUp: null,
      updatedAt: Date.now(),
    });
  }

  /** Drops a mirror adopted for a prediction Redis did not accept. */
  forget(id: string): void {
    this.live.delete(id);
  }

  async get(id: string): Promise<PredictionRecord | undefined> {
    const m = this.live.get(id);
    if (m) {
      if (!m.record.prediction.terminal) await this.catchUp(m);
      return m.record;
    }
    return this.load(id);
  }

  private async load(id: string): Promise<PredictionRecord | undefined> {
    const [fields, events] = (await this.conn.pipeline([
      ["HMGET", this.keys.prediction(id), "job", "seq"],
      ["XRANGE", this.keys.events(id), "-", "+"],
    ])) as [(string | null)[], [string, string[]][]];
    const [jobText, seq] = fields;
    if (!jobText) return undefined;
    const job = decodeJob(jobText);
    const prediction = new Prediction({
      id: job.id,
      kind: job.kind,
      input: job.publicInput,
      publicInput: job.publicInput,
      context: {},
      iterator: job.iterator,
      redact: makeRedactor([]),
      createdAt: new Date(job.created_at),
    });
    const record: PredictionRecord = {
      prediction,
      base: job.base,
      model: job.model,
      version: job.version,
      seq: Number(seq ?? 0),
      destination: job.destination ?? undefined,
    };
    const existing = this.live.get(id); // another request loaded it meanwhile
    if (existing) return existing.record;
    const m: Mirror = { record, applied: 0, lastId: "0-0", catchingUp: null, updatedAt: Date.now() };
    this.applyEntries(m, events);
    this.live.set(id, m);
    this.evict();
    return record;
  }

  private onBatch(message: string): void {
    let b: Batch;
    try {
      b = JSON.parse(message) as Batch;
    } catch {
      return;
    }
    const m = this.live.get(b.id);
    if (!m || m.record.prediction.terminal) return;
    if (b.k > m.applied) {
      void this.catchUp(m); // a gap: read the stream
      return;
    }
    const fresh = b.ev.slice(m.applied - b.k);
    for (const [sid, t, d] of fresh) this.applyOne(m, sid, decodeWire(["t", t, "d", d]));
  }

  private catchUp(m: Mirror): Promise<void> {
    m.catchingUp ??= (async () => {
      try {
        const entries = (await this.conn.call(
          "XRANGE",
          this.keys.events(m.record.prediction.id),
          `(${m.lastId}`,
          "+",
        )) as [string, string[]][];
        this.applyEntries(m, entries);
      } catch (err) {
        this.logger.debug("catching up on prediction events failed", { id: m.record.prediction.id, err });
      } finally {
        m.catchingUp = null;
      }
    })();
    return m.catchingUp;
  }

  private catchUpAll(staleMs: number): void {
    const now = Date.now();
    for (const m of this.live.values())
      if (!m.record.prediction.terminal && now - m.updatedAt >= staleMs) void this.catchUp(m);
  }

  private applyEntries(m: Mirror, entries: [string, string[]][]): void {
    for (const [sid, fields] of entries) this.applyOne(m, sid, decodeWire(fields));
  }

  private applyOne(m: Mirror, sid: string, e: WireEvent | null): void {
    if (compareIds(sid, m.lastId) <= 0) return; // already applied (a batch and XRANGE overlapped)
    m.lastId = sid;
    m.applied++;
    m.updatedAt = Date.now();
    if (!e) return;
    const p = m.record.prediction;
    const was = p.terminal;
    applyWire(p, e);
    if (!was && p.terminal) {
      this.onTerminal(m.record);
      this.evict();
    }
  }

  /** Finished mirrors beyond the cap go (oldest first); running ones stay while they run. */
  private evict(): void {
    let terminal = 0;
    for (const m of this.live.values()) if (m.record.prediction.terminal) terminal++;
    if (terminal <= MAX_TERMINAL) return;
    for (const [id, m] of this.live) {
      if (terminal <= MAX_TERMINAL) break;
      if (m.record.prediction.terminal) {
        this.live.delete(id);
        terminal--;
      }
    }
  }
}

/** Orders Redis stream ids ("ms-seq"). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}
