/**
 * Identical requests that arrive together run once: the first caller for a key runs the work, the
 * others wait for its result. A failed run is not shared beyond the callers already waiting.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /** The run in flight for `key`, if any. */
  pending(key: string): Promise<T> | undefined {
    return this.inflight.get(key);
  }

  run(key: string, work: () => Promise<T>): { result: Promise<T>; leader: boolean } {
    const existing = this.inflight.get(key);
    if (existing) return { result: existing, leader: false };
    const result = work().finally(() => {
      if (this.inflight.get(key) === result) this.inflight.delete(key);
    });
    this.inflight.set(key, result);
    return { result, leader: true };
  }

  get size(): number {
    return this.inflight.size;
  }
}
