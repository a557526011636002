/**
 * The predictions created through /v1, newest last, for get/list/cancel and stream lookups. It holds
 * references to the core's Prediction objects (no state of its own) plus what the hosted JSON needs:
 * the public base URL the client used, the model and the version. Bounded by count and by bytes: once
 * finished predictions (inputs, outputs, logs and their event history) add up to more than the byte
 * budget, or more than `retain` of them are kept, the oldest finished ones go. An evicted id is
 * remembered (bounded), so a lookup says "evicted" instead of a bare "not found".
 */
import type { Prediction } from "../core/prediction.js";
import type { Page, PredictionRecord } from "../core/store.js";
import type { PredictorKind } from "../protocol.js";
import { RawJson } from "../raw-json.js";

export interface HostedRecord extends PredictionRecord {
  /** Estimated retained size once finished (0 while running). */
  bytes?: number;
}

export const DEFAULT_RETAIN_BYTES = 256 * 1024 * 1024;
// Remembered evicted ids, for a clear 404 (about 40 bytes each).
const MAX_TOMBSTONES = 100_000;

/** Rough size of a JSON value without building one huge string (strings and numbers dominate). */
function jsonSize(value: unknown, depth = 0): number {
  if (typeof value === "string") return value.length + 2;
  if (value instanceof RawJson) return value.bytes;
  if (value === null || typeof value !== "object" || depth > 64) return 8;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += jsonSize(v, depth + 1) + 1;
  else for (const [k, v] of Object.entries(value)) n += k.length + 3 + jsonSize(v, depth + 1) + 1;
  return n;
}

/** What a finished prediction keeps alive: input (clear and public), output, logs, and the event history. */
function retainedBytes(p: Prediction): number {
  const input = jsonSize(p.input) + jsonSize(p.publicInput);
  // Iterator chunks live in the output and in the history; logs in `logs` and in the history.
  const output = jsonSize(p.output) * (p.iterator ? 2 : 1);
  return input + output + p.logs.length * 2 + p.history.length * 48 + 1024;
}

export type { Page };

export class HostedRegistry {
  private readonly records = new Map<string, HostedRecord>();
  private readonly evicted = new Set<string>();
  private seq = 0;
  private totalBytes = 0;

  constructor(
    private readonly retain: number,
    readonly retainBytes: number = DEFAULT_RETAIN_BYTES,
  ) {}

  /** Stores the record (assigning its seq): the same object the webhook renderer holds. */
  add(record: HostedRecord): HostedRecord {
    record.seq = ++this.seq;
    this.records.set(record.prediction.id, record);
    const account = (): void => {
      if (this.records.get(record.prediction.id) !== record || record.bytes !== undefined) return;
      record.bytes = retainedBytes(record.prediction);
      this.totalBytes += record.bytes;
      this.evict();
    };
    if (record.prediction.terminal) account();
    else void record.prediction.finished.then(account);
    this.evict();
    return record;
  }

  get(id: string): HostedRecord | undefined {
    return this.records.get(id);
  }

  /** True when `id` was a prediction here that the retention limits removed. */
  wasEvicted(id: string): boolean {
    return this.evicted.has(id);
  }

  get size(): number {
    return this.records.size;
  }

  /** Estimated bytes held by the finished predictions kept. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Newest first. Cursors are `b<seq>` (items older than seq) or `a<seq>` (newer than seq). */
  page(cursor: string | null, size: number, kind: PredictorKind = "predict"): Page<HostedRecord> {
    const all = [...this.records.values()].filter((r) => r.prediction.kind === kind); // ascending seq
    const m = cursor ? /^([ab])(\d+)$/.exec(cursor) : null;
    if (cursor && !m) throw new RangeError(`invalid cursor ${JSON.stringify(cursor)}`);
    let items: HostedRecord[];
    if (!m) items = all.slice(-size).reverse();
    else if (m[1] === "b")
      items = all
        .filter((r) => r.seq < Number(m[2]))
        .slice(-size)
        .reverse();
    else
      items = all
        .filter((r) => r.seq > Number(m[2]))
        .slice(0, size)
        .reverse();
    const oldest = items[items.length - 1];
    const newest = items[0];
    const first = all[0];
    const last = all[all.length - 1];
    return {
      items,
      next: oldest && first && oldest.seq > first.seq ? `b${oldest.seq}` : null,
      previous: newest && last && newest.seq < last.seq ? `a${newest.seq}` : null,
    };
  }

  private evict(): void {
    const over = (): boolean => this.records.size > this.retain || this.totalBytes > this.retainBytes;
    if (!over()) return;
    for (const [id, r] of this.records) {
      if (!over()) break;
      if (!r.prediction.terminal || r.bytes === undefined) continue;
      this.records.delete(id);
      this.totalBytes -= r.bytes;
      this.evicted.add(id);
      if (this.evicted.size > MAX_TOMBSTONES) this.evicted.delete(this.evicted.values().next().value!);
    }
  }
}
