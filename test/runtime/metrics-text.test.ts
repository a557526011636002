/** The Prometheus text of kiln's registry: label order, escaping, histograms (pure). */
import { describe, expect, test } from "vitest";
import { MetricsRegistry, labelText } from "../../src/runtime/metrics.js";

describe("labelText", () => {
  test("no labels, one label, several labels in name order", () => {
    expect(labelText({})).toBe("");
    expect(labelText({ status: "succeeded" })).toBe('{status="succeeded"}');
    expect(labelText({ z: "1", a: "2", m: "3" })).toBe('{a="2",m="3",z="1"}');
  });

  test("backslashes, newlines and quotes are escaped, with one label or several", () => {
    expect(labelText({ v: 'a\\b\n"c"' })).toBe('{v="a\\\\b\\n\\"c\\""}');
    expect(labelText({ b: "\n", a: '"' })).toBe('{a="\\"",b="\\n"}');
  });
});

describe("MetricsRegistry", () => {
  test("a counter by label set and a histogram's cumulative buckets", async () => {
    const m = new MetricsRegistry();
    const total = m.counter("t_total", "Things.");
    total.inc({ status: "ok" });
    total.inc({ status: "ok" });
    total.inc({ status: "bad" }, 3);
    const h = m.histogram("d_seconds", "Durations.", [0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 2]) h.observe(v);
    expect(total.get({ status: "ok" })).toBe(2);
    const text = await m.render();
    expect(text).toContain('t_total{status="ok"} 2\nt_total{status="bad"} 3\n');
    expect(text).toContain(
      'd_seconds_bucket{le="0.1"} 2\nd_seconds_bucket{le="1"} 3\nd_seconds_bucket{le="+Inf"} 4\nd_seconds_sum 2.65\nd_seconds_count 4\n',
    );
  });
});
