/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges read at scrape time
 * and histograms, with labels. The model server and the gateway each keep one and serve it at /metrics.
 */
export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): Promise<string[]> | string[];
}

const NEEDS_ESCAPE = /[\\\n"]/;
const escapeLabel = (v: string): string =>
  NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"') : v;

// Counted on every prediction (no labels, or one): those skip the sort and the join.
export function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  if (keys.length === 1) return `{${keys[0]}="${escapeLabel(labels[keys[0]!]!)}"}`;
  return `{${keys
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(",")}}`;
}

function num(n: number): string {
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return Number.isNaN(n) ? "NaN" : String(n);
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k} ${num(v)}`);
  }
}

/** Seconds buckets from 5 ms to 10 min: queue waits, setups and predictions all fit. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

class Histogram {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = labelText(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(b) })} ${s.counts[i]}`),
      );
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export type GaugeSample = { labels?: Labels; value: number };

export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string): Counter {
    const c = new Counter(name);
    this.families.push({ name, help, type: "counter", render: () => c.lines() });
    return c;
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    const h = new Histogram(name, buckets);
    this.families.push({ name, help, type: "histogram", render: () => h.lines() });
    return h;
  }

  /**
   * A gauge whose samples are read at scrape time (may be async, e.g. from Redis); with type `counter`,
   * a counter someone else keeps (read, never incremented here).
   */
  gauge(
    name: string,
    help: string,
    collect: () => GaugeSample[] | Promise<GaugeSample[]>,
    type: "gauge" | "counter" = "gauge",
  ): void {
    this.families.push({
      name,
      help,
      type,
      render: async () => (await collect()).map((s) => `${name}${labelText(s.labels ?? {})} ${num(s.value)}`),
    });
  }

  /** The exposition text; a collector that throws leaves its family without samples (and says why). */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      try {
        out.push(...(await f.render()));
      } catch (err) {
        out.push(`# ${f.name} unavailable: ${(err as Error).message.replace(/\n/g, " ")}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
