/**
 * A bounded FIFO in front of the runner's slots (used by the hosted /v1 API): a prediction that finds
 * every slot busy, or the model still in setup, waits here instead of getting a 409. Full -> QueueFullError.
 * The runner stays the only state machine: this only decides *when* runner.start() is called.
 */
import type { Prediction } from "./prediction.js";
import type { PredictionRunner } from "./runner.js";
import { QueueFullError } from "./store.js";

export interface QueueOptions {
  runner: PredictionRunner;
  /** Most predictions allowed to wait (not counting the running ones). */
  maxSize: number;
  /** False while the model cannot run predictions yet (setup still running). */
  canStart: () => boolean;
}

export class PredictionQueue {
  private readonly waiting: Prediction[] = [];

  constructor(private readonly options: QueueOptions) {
    options.runner.on("slot-freed", () => this.pump());
  }

  get length(): number {
    return this.waiting.length;
  }

  has(p: Prediction): boolean {
    return this.waiting.includes(p);
  }

  /** Starts the prediction now if possible, else queues it; throws QueueFullError when full. */
  submit(p: Prediction): void {
    if (this.waiting.length === 0 && this.options.canStart() && this.options.runner.hasFreeSlot()) {
      this.options.runner.start(p);
      return;
    }
    if (this.waiting.length >= this.options.maxSize) throw new QueueFullError(this.options.maxSize);
    this.waiting.push(p);
  }

  /** Cancels a queued prediction (it never reaches the worker); false when it is not queued. */
  cancel(p: Prediction): boolean {
    const i = this.waiting.indexOf(p);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    p.cancelController.abort();
    p.finish("canceled");
    return true;
  }

  /** Fails everything still waiting (setup failed, worker gone, shutdown). */
  failAll(error: string): void {
    for (const p of this.waiting.splice(0)) p.finish("failed", { error });
  }

  /** Moves waiting predictions onto free slots, oldest first. Call when a slot frees or setup ends. */
  pump(): void {
    while (this.waiting.length > 0 && this.options.canStart() && this.options.runner.hasFreeSlot()) {
      const p = this.waiting.shift()!;
      if (p.terminal) continue;
      try {
        this.options.runner.start(p);
      } catch (err) {
        p.finish("failed", { error: (err as Error).message });
      }
    }
  }
}
