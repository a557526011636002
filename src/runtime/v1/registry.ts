/**
 * The predictions created through /v1, newest last, for get/list/cancel and stream lookups. It holds
 * references to the core's Prediction objects (no state of its own) plus what the hosted JSON needs:
 * the public base URL the client used, the model and the version. Bounded: the oldest finished ones go.
 */
import type { Page, PredictionRecord } from "../core/store.js";

export type HostedRecord = PredictionRecord;
export type { Page };

export class HostedRegistry {
  private readonly records = new Map<string, HostedRecord>();
  private seq = 0;

  constructor(private readonly retain: number) {}

  /** Stores the record (assigning its seq): the same object the webhook renderer holds. */
  add(record: HostedRecord): HostedRecord {
    record.seq = ++this.seq;
    this.records.set(record.prediction.id, record);
    this.evict();
    return record;
  }

  get(id: string): HostedRecord | undefined {
    return this.records.get(id);
  }

  get size(): number {
    return this.records.size;
  }

  /** Newest first. Cursors are `b<seq>` (items older than seq) or `a<seq>` (newer than seq). */
  page(cursor: string | null, size: number): Page<HostedRecord> {
    const all = [...this.records.values()]; // ascending seq
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
    if (this.records.size <= this.retain) return;
    for (const [id, r] of this.records) {
      if (this.records.size <= this.retain) break;
      if (r.prediction.terminal) this.records.delete(id);
    }
  }
}
