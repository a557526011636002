/** examples/python-ppm-filter: a real Cog-style model (file in, streamed files out) on the Python worker. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, expect, test } from "vitest";
import type { PythonWorker } from "./harness.js";
import { REPO_ROOT, readyWorker, schemaOnly } from "./harness.js";

const root = path.join(REPO_ROOT, "examples/python-ppm-filter");
const sample = path.join(root, "sample.ppm");
const workers: PythonWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function parseP6(file: string): { width: number; height: number; pixels: Buffer } {
  const data = readFileSync(file);
  const header = data.subarray(0, 20).toString("latin1");
  const match = /^P6\n(\d+) (\d+)\n255\n/.exec(header);
  if (!match) throw new Error(`not a P6 file: ${file}`);
  return { width: Number(match[1]), height: Number(match[2]), pixels: data.subarray(match[0].length) };
}

test("the example's schema declares a file input, a Literal filter and an iterator of files", async () => {
  const { code, stdout } = await schemaOnly({ root });
  expect(code).toBe(0);
  const { schema } = JSON.parse(stdout) as { schema: Record<string, Record<string, unknown>> };
  expect(schema.output).toEqual({
    type: "array",
    items: { type: "string", format: "uri" },
    title: "Output",
    "x-cog-array-type": "iterator",
  });
  expect(schema.components).toMatchObject({ filter: { enum: ["grayscale", "invert", "sepia", "blur"] } });
});

test("grayscale streams one valid PPM per pass, with logs and metrics", async () => {
  const w = await readyWorker({ root });
  workers.push(w);
  expect(w.setupLogs()).toBe("filters available: blur, grayscale, invert, sepia\n");
  const r = await w.predict("g", { image: sample, filter: "grayscale", passes: 2 });
  expect(r.terminal).toEqual({ type: "done", id: "g" });
  expect(r.chunks).toHaveLength(2);
  for (const chunk of r.chunks) {
    const { width, height, pixels } = parseP6((chunk as { $file: string }).$file);
    expect([width, height]).toEqual([48, 32]);
    expect(pixels.length).toBe(48 * 32 * 3);
    for (let i = 0; i < pixels.length; i += 3) {
      expect(pixels[i]).toBe(pixels[i + 1]);
      expect(pixels[i + 1]).toBe(pixels[i + 2]);
    }
  }
  expect(r.logs).toBe("read 48x32 image\npass 1/2 done\npass 2/2 done\n");
  expect(r.metrics.map((m) => m.name)).toEqual(["pixels", "filter_seconds"]);
  expect(r.metrics[0]?.value).toBe(48 * 32);
});

test("invert twice gives back the original image; blur smooths the red square's edge", async () => {
  const w = await readyWorker({ root });
  workers.push(w);
  const inv = await w.predict("i", { image: sample, filter: "invert", passes: 2 });
  const original = parseP6(sample).pixels;
  expect(parseP6((inv.chunks[1] as { $file: string }).$file).pixels.equals(original)).toBe(true);
  expect(parseP6((inv.chunks[0] as { $file: string }).$file).pixels[0]).toBe(255 - (original[0] ?? 0));
  const blur = await w.predict("b", { image: sample, filter: "blur", passes: 1 });
  const blurred = parseP6((blur.chunks[0] as { $file: string }).$file).pixels;
  const at = (x: number, y: number) => (y * 48 + x) * 3;
  expect(original[at(12, 14)]).toBe(220);
  expect(blurred[at(12, 14)]).toBeLessThan(220); // edge pixel mixes with its neighbours
  expect(blurred[at(18, 14)]).toBe(220); // inside the square nothing changes
});

test("a file that is not a PPM fails with a clear message", async () => {
  const w = await readyWorker({ root });
  workers.push(w);
  const bad = path.join(mkdtempSync(path.join(tmpdir(), "kiln-ppm-")), "photo.png");
  writeFileSync(bad, "\x89PNG not really");
  const r = await w.predict("x", { image: bad });
  expect(r.terminal).toMatchObject({ type: "failed", error: expect.stringContaining("not a PPM image") });
});
