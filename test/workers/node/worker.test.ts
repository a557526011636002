import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../../src/build/ts-predictor.js";
import type { LoadedMessage, LogMessage, WorkerMessage } from "../../../src/runtime/protocol.js";
import {
  NODE_WORKER_MODES,
  startWorker,
  workerBundle,
  type NodeWorkerMode,
  type WorkerHandle,
} from "./harness.js";

let root = "";
let compiled = "";
const started: WorkerHandle[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "kiln-worker-test-"));
  cpSync(join(import.meta.dirname, "fixtures"), root, { recursive: true });
  const { outFile } = await compileTsPredictor(root, {
    raw: "predictors.ts:echo",
    file: "predictors.ts",
    name: "echo",
    language: "typescript",
  });
  compiled = relative(root, outFile);
  await workerBundle();
}, 60_000);

afterEach(() => {
  for (const w of started.splice(0)) w.kill();
});

async function ready(mode: NodeWorkerMode, name: string, extra: string[] = []): Promise<WorkerHandle> {
  const w = await startWorker(["--predictor", `${compiled}:${name}`, "--root", root, ...extra], {}, mode);
  started.push(w);
  await w.waitFor((m) => m.type === "loaded");
  w.send({ type: "setup", weights: null });
  await w.waitFor((m) => m.type === "ready" || m.type === "setup_failed");
  return w;
}

const framesFor = (w: WorkerHandle, id: string): WorkerMessage[] =>
  w.frames.filter((m) => "id" in m && m.id === id && m.type !== "log");
const logsFor = (w: WorkerHandle, id: string | null, source = "stdout"): string =>
  w.frames
    .filter((m): m is LogMessage => m.type === "log" && m.id === id && m.source === source)
    .map((m) => m.data)
    .join("");
const terminal = (id: string) => (m: WorkerMessage) =>
  "id" in m && m.id === id && ["done", "failed", "canceled"].includes(m.type);

describe.each(NODE_WORKER_MODES)("node worker (%s)", (mode) => {
  it("sends loaded with the schema, then ready after setup with captured setup logs", async () => {
    const w = await startWorker(["--predictor", `${compiled}:echo`, "--root", root], {}, mode);
    started.push(w);
    const loaded = (await w.waitFor((m) => m.type === "loaded")) as LoadedMessage;
    expect(loaded).toMatchObject({ protocol: 1, async: true, hasHealthcheck: true });
    expect(loaded.schema.input.required).toEqual(["text"]);
    expect(loaded.schema.output).toEqual({ type: "string", title: "Output" });
    w.send({ type: "setup", weights: "/weights" });
    await w.waitFor((m) => m.type === "ready");
    expect(logsFor(w, null)).toBe("setting up\nweights: /weights\n");
  });

  it("runs a prediction: output, logs (stdout and stderr), metrics, context, optional -> undefined", async () => {
    const w = await ready(mode, "echo");
    w.send({
      type: "predict",
      id: "p1",
      kind: "predict",
      input: { text: "ab", n: 2, note: null },
      context: { k: "v" },
    });
    await w.waitFor(terminal("p1"));
    expect(framesFor(w, "p1")).toEqual([
      { type: "metric", id: "p1", name: "chars", value: 2, mode: "replace" },
      { type: "metric", id: "p1", name: "calls", value: 1, mode: "incr" },
      { type: "done", id: "p1", output: '>abab|note=undefined|ctx={"k":"v"}' },
    ]);
    expect(logsFor(w, "p1")).toBe("echo ab\n");
    expect(logsFor(w, "p1", "stderr")).toBe("to stderr\n");
  });

  it("answers health checks from the user's healthcheck()", async () => {
    const w = await ready(mode, "echo");
    w.send({ type: "healthcheck", seq: 7 });
    expect(await w.waitFor((m) => m.type === "healthcheck_result")).toEqual({
      type: "healthcheck_result",
      seq: 7,
      ok: true,
    });
  });

  it("attributes logs per prediction when two run concurrently", async () => {
    const w = await ready(mode, "tagged");
    w.send({ type: "predict", id: "a", kind: "predict", input: { tag: "A", ms: 150 }, context: {} });
    w.send({ type: "predict", id: "b", kind: "predict", input: { tag: "B", ms: 50 }, context: {} });
    await Promise.all([w.waitFor(terminal("a")), w.waitFor(terminal("b"))]);
    expect(logsFor(w, "a")).toBe("start A\nend A\n");
    expect(logsFor(w, "b")).toBe("start B\nend B\n");
    // B finished first: the two really overlapped.
    const doneOrder = w.frames.filter((m) => m.type === "done").map((m) => (m as { id: string }).id);
    expect(doneOrder).toEqual(["b", "a"]);
  });

  it("answers predictions that finish together in one arrival (thread), each done in order", async () => {
    const w = await ready(mode, "quiet");
    const ids = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"];
    const before = w.arrivals;
    w.sendMany(ids.map((id) => ({ type: "predict", id, kind: "predict", input: { text: id }, context: {} })));
    await Promise.all(ids.map((id) => w.waitFor(terminal(id))));
    const done = w.frames.filter((m) => m.type === "done");
    expect(done).toEqual(ids.map((id) => ({ type: "done", id, output: id })));
    // A thread sends the ends of one turn's predictions as one message (a process corks them into one
    // write, but a pipe read may split it: not counted there).
    if (mode === "thread") expect(w.arrivals - before).toBe(1);
  });

  it("streams async generator output as chunks, then done without output", async () => {
    const w = await ready(mode, "counter");
    w.send({ type: "predict", id: "s", kind: "predict", input: { count: 3 }, context: {} });
    await w.waitFor(terminal("s"));
    expect(framesFor(w, "s")).toEqual([
      { type: "output", id: "s", chunk: 0 },
      { type: "output", id: "s", chunk: 1 },
      { type: "output", id: "s", chunk: 2 },
      { type: "done", id: "s" },
    ]);
  });

  it("cancel reaches ctx.signal and the prediction ends canceled", async () => {
    const w = await ready(mode, "waitsForCancel");
    w.send({ type: "predict", id: "c", kind: "predict", input: {}, context: {} });
    await w.waitFor((m) => m.type === "log" && m.id === "c");
    w.send({ type: "cancel", id: "c" });
    expect(await w.waitFor(terminal("c"))).toEqual({ type: "canceled", id: "c" });
    expect(logsFor(w, "c")).toBe("waiting\nsaw abort\n");
  });

  it("a predictor that ignores cancel still ends canceled when it returns", async () => {
    const w = await ready(mode, "ignoresCancel");
    w.send({ type: "predict", id: "i", kind: "predict", input: {}, context: {} });
    w.send({ type: "cancel", id: "i" });
    expect(await w.waitFor(terminal("i"))).toEqual({ type: "canceled", id: "i" });
  });

  it("cancel stops a stream", async () => {
    const w = await ready(mode, "counter");
    w.send({ type: "predict", id: "sc", kind: "predict", input: { count: 1000 }, context: {} });
    await w.waitFor((m) => m.type === "output" && m.id === "sc");
    w.send({ type: "cancel", id: "sc" });
    expect(await w.waitFor(terminal("sc"))).toEqual({ type: "canceled", id: "sc" });
    expect(framesFor(w, "sc").filter((m) => m.type === "output").length).toBeLessThan(10);
  });

  it("reports a thrown error as failed with its message, stack in the logs", async () => {
    const w = await ready(mode, "throws");
    w.send({ type: "predict", id: "t", kind: "predict", input: {}, context: {} });
    expect(await w.waitFor(terminal("t"))).toEqual({ type: "failed", id: "t", error: "boom" });
    expect(logsFor(w, "t", "stderr")).toMatch(/Error: boom\n\s+at .*predictors\.ts:\d+/);
  });

  it("reports setup failure with the user's file and line", async () => {
    const w = await ready(mode, "setupFails");
    const failed = await w.waitFor((m) => m.type === "setup_failed");
    const line =
      readFileSync(join(root, "predictors.ts"), "utf8")
        .split("\n")
        .findIndex((l) => l.includes("no weights here")) + 1;
    expect(failed).toEqual({ type: "setup_failed", error: `predictors.ts:${line}: Error: no weights here` });
  });

  it("encodes file outputs as {$file} with absolute paths, lists stay lists", async () => {
    const w = await ready(mode, "files");
    const dir = mkdtempSync(join(tmpdir(), "kiln-out-"));
    w.send({ type: "predict", id: "f", kind: "predict", input: { dir }, context: {} });
    expect(await w.waitFor(terminal("f"))).toEqual({
      type: "done",
      id: "f",
      output: {
        one: { $file: join(dir, "a.txt") },
        many: [{ $file: join(dir, "a.txt") }, { $file: join(dir, "b.txt") }],
        label: "x",
      },
    });
  });

  it("wraps secrets: redacted when printed, real through get(), placeholder default replaced", async () => {
    const w = await ready(mode, "secrets");
    w.send({
      type: "predict",
      id: "k",
      kind: "predict",
      input: { token: "s3cr3t", fallback: "**********" },
      context: {},
    });
    expect(await w.waitFor(terminal("k"))).toEqual({ type: "done", id: "k", output: "s3cr3t/dflt" });
    expect(logsFor(w, "k")).toBe("token is ********** Secret(**********)\n");
  });

  it("shuts down after in-flight predictions finish", async () => {
    const w = await ready(mode, "tagged");
    w.send({ type: "predict", id: "x", kind: "predict", input: { tag: "X", ms: 100 }, context: {} });
    w.send({ type: "shutdown" });
    w.send({ type: "predict", id: "late", kind: "predict", input: { tag: "L", ms: 1 }, context: {} });
    expect(await w.exited).toBe(0);
    expect(w.frames.find(terminal("late"))).toEqual({
      type: "failed",
      id: "late",
      error: "the model is shutting down",
    });
    expect(w.frames.find(terminal("x"))).toEqual({ type: "done", id: "x", output: "X" });
  });

  it("ignores SIGINT (the server coordinates stopping) and exits when the server closes its side", async () => {
    const w = await ready(mode, "echo");
    // A thread gets no signals of its own: only a process has one to ignore.
    w.child?.kill("SIGINT");
    w.send({ type: "predict", id: "after-int", kind: "predict", input: { text: "x" }, context: {} });
    await w.waitFor(terminal("after-int"));
    w.closeInput();
    expect(await w.exited).toBe(0);
  });

  it("--schema-only prints the loaded message and exits 0", async () => {
    const w = await startWorker(
      ["--predictor", `${compiled}:counter`, "--root", root, "--schema-only"],
      {},
      mode,
    );
    expect(await w.exited).toBe(0);
    const loaded = JSON.parse(w.stdout.join("")) as LoadedMessage;
    expect(w.stderr.join("")).toBe("module loaded\n");
    expect(loaded.type).toBe("loaded");
    expect(loaded.schema.output).toEqual({
      type: "array",
      items: { type: "integer" },
      title: "Output",
      "x-cog-array-type": "iterator",
    });
  });

  it("--train adds the trainer's schema and runs kind=train on it", async () => {
    const w = await ready(mode, "echo", ["--train", `${compiled}:counter`]);
    const loaded = w.frames.find((m) => m.type === "loaded") as LoadedMessage;
    expect(loaded.schema.train?.output["x-cog-array-type"]).toBe("iterator");
    w.send({ type: "predict", id: "tr", kind: "train", input: { count: 1 }, context: {} });
    await w.waitFor(terminal("tr"));
    expect(framesFor(w, "tr")).toEqual([
      { type: "output", id: "tr", chunk: 0 },
      { type: "done", id: "tr" },
    ]);
  });

  it("fails to load with a clear message and exit 1", async () => {
    for (const [target, message] of [
      [`${compiled}:nope`, /has no export named "nope" \(it exports: .*echo/],
      [`${compiled}:notAPredictor`, /is not a kiln predictor: create it with definePredictor\(\)/],
      ["predictors.ts:echo", /is TypeScript/],
      ["missing.mjs:x", /missing\.mjs not found/],
    ] as const) {
      const w = await startWorker(["--predictor", target, "--root", root, "--schema-only"], {}, mode);
      expect(await w.exited).toBe(1);
      expect(w.stderr.join("")).toMatch(message);
    }
  });
});
