import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MetricsRegistry, labelText } from "../../src/runtime/metrics.js";
import { readyFile } from "../../src/runtime/config.js";
import { request, startFixture } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("Prometheus registry", () => {
  it("renders counters, histograms and gauges in the text format", async () => {
    const m = new MetricsRegistry();
    const c = m.counter("x_total", "Things.");
    c.inc({ status: "ok" });
    c.inc({ status: "ok" }, 2);
    c.inc({ status: 'we"ird\n' });
    const h = m.histogram("d_seconds", "Durations.", [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    m.gauge("g", "A gauge.", () => [{ value: 7, labels: { q: "a" } }]);
    m.gauge("broken", "Fails.", () => {
      throw new Error("no redis");
    });
    const text = await m.render();
    expect(text).toContain('# TYPE x_total counter\nx_total{status="ok"} 3\nx_total{status="we\\"ird\\n"} 1');
    expect(text).toContain(
      'd_seconds_bucket{le="0.1"} 1\nd_seconds_bucket{le="1"} 2\nd_seconds_bucket{le="+Inf"} 3',
    );
    expect(text).toContain("d_seconds_sum 5.55\nd_seconds_count 3");
    expect(text).toContain('# TYPE g gauge\ng{q="a"} 7');
    expect(text).toContain("# broken unavailable: no redis");
    expect(labelText({ b: "2", a: "1" })).toBe('{a="1",b="2"}');
  });
});

describe("/metrics and the readiness file on the model server", () => {
  it("counts predictions by status and durations; the ready file follows READY and shutdown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-ready-test-"));
    dirs.push(dir);
    const file = join(dir, "run/cog/ready");
    const s = await startFixture("echo", { readyFile: file });
    expect(existsSync(file)).toBe(true);
    await request(s.url, "/predictions", { body: { input: { text: "hi" } } });
    await request(s.url, "/predictions", { body: { input: {} } }); // 422: never a prediction
    const r = await fetch(`${s.url}/metrics`);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toContain('kiln_predictions_total{status="succeeded"} 1');
    expect(text).toMatch(/kiln_prediction_predict_seconds_count 1/);
    expect(text).toMatch(/kiln_setup_seconds_count 1/);
    expect(text).toContain("kiln_predictions_in_flight 0");
    expect(text).toContain('kiln_queue_depth{queue="local"} 0');
    expect(text).toContain("kiln_ready 1");
    await s.close();
    expect(existsSync(file)).toBe(false);
  });

  it("requires the API token on /metrics when one is set", async () => {
    const s = await startFixture("echo", { hosted: { apiToken: "sekret" } });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      const ok = await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer sekret" } });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it("defaults the ready file to /var/run/cog/ready only inside a container", () => {
    expect(readyFile({}, true)).toBe("/var/run/cog/ready");
    expect(readyFile({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, false)).toBe("/var/run/cog/ready");
    expect(readyFile({}, false)).toBeNull();
    expect(readyFile({ KILN_READY_FILE: "" }, true)).toBeNull();
    expect(readyFile({ KILN_READY_FILE: "/tmp/r" }, false)).toBe("/tmp/r");
  });
});
