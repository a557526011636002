/** Cog-style predictors (test/fixtures/python) driven through the real Python worker over fds 3/4. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { PythonWorker, readyWorker } from "./harness.js";

const workers: PythonWorker[] = [];
async function ready(
  root: string,
  opts: { predictor?: string; train?: string; env?: Record<string, string> } = {},
) {
  const w = await readyWorker({ root, ...opts });
  workers.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function fileOf(value: unknown): string {
  expect(value).toMatchObject({ $file: expect.stringMatching(/^\//) });
  return readFileSync((value as { $file: string }).$file, "utf8");
}

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-py-test-"));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe("class and function predictors", () => {
  test("a BasePredictor runs setup once, attributes prints to setup and to the prediction", async () => {
    const w = await ready("hello");
    const loaded = w.messages[0];
    expect(loaded).toMatchObject({ type: "loaded", protocol: 1, async: false, hasHealthcheck: false });
    expect(w.setupLogs()).toBe("loading the greeting model\n");
    const r = await w.predict("p1", { text: "world" });
    expect(r.terminal).toEqual({ type: "done", id: "p1", output: "hello world" });
    expect(r.logs).toBe("greeting world\n");
    expect(r.messages.every((m) => m.type !== "log" || m.source === "stdout")).toBe(true);
    const again = await w.predict("p2", { text: "again" });
    expect(again.terminal).toMatchObject({ output: "hello again" });
  });

  test("a plain function predictor uses Python defaults for absent inputs", async () => {
    const w = await ready("function", { predictor: "predict.py:predict" });
    expect((await w.predict("a", { text: "hi" })).terminal).toMatchObject({ type: "done", output: "HI" });
    expect((await w.predict("b", { text: "hi", times: 2 })).terminal).toMatchObject({ output: "HI HI" });
  });

  test("BaseRunner with run() is the new spelling of BasePredictor/predict()", async () => {
    const w = await ready("runner", { predictor: "run.py:Runner" });
    expect((await w.predict("a", { a: 2, b: 3 })).terminal).toMatchObject({ type: "done", output: 5 });
  });

  test("a trainer runs with kind=train next to the predictor", async () => {
    const w = await ready("train", { train: "train.py:train" });
    const data = tempFile("data.txt", "0123456789");
    const r = await w.predict("t1", { data, epochs: 3 }, { kind: "train" });
    expect(r.terminal.type).toBe("done");
    const output = (r.terminal as { output: { weights: unknown } }).output;
    expect(fileOf(output.weights)).toBe("3 epochs over 10 bytes");
    expect(r.logs).toBe("trained 3 epochs\n");
    expect((await w.predict("p1", { text: "x" })).terminal).toMatchObject({ output: "x" });
  });
});

describe("inputs", () => {
  test("every input type arrives as the annotated Python type", async () => {
    const w = await ready("inputs");
    const image = tempFile("image.txt", "pixels");
    const document = tempFile("doc.txt", "a document");
    const r = await w.predict("p", {
      prompt: "a cat",
      code: "xyz",
      steps: 20,
      scale: 2,
      flag: true,
      scheduler: "K_EULER",
      size: 256,
      mode: "slow",
      seed: null,
      tags: ["a", "b"],
      weights: [1, 0.25],
      image,
      document,
      images: [image, document],
      api_key: "sk-123",
      extra: { nested: { x: 1 } },
      anything: [1, "two"],
      old: "y",
    });
    expect(r.terminal.type).toBe("done");
    expect((r.terminal as { output: unknown }).output).toEqual({
      prompt: "a cat",
      code: "xyz",
      steps: 20,
      scale: 2,
      scale_type: "float",
      flag: true,
      scheduler: "K_EULER",
      size: 256,
      mode: "slow",
      seed: null,
      tags: ["a", "b"],
      weights: [1, 0.25],
      image_type: "Path",
      image_is_pathlib: true,
      image_text: "pixels",
      document: "a document",
      images: ["image.txt", "doc.txt"],
      secret_repr: "Secret(**********)",
      secret_str: "**********",
      secret_value: "sk-123",
      extra: { nested: { x: 1 } },
      anything: [1, "two"],
      old: "y",
    });
  });

  test("inputs the server omitted fall back to their Input defaults", async () => {
    const w = await ready("inputs");
    const image = tempFile("image.txt", "x");
    const r = await w.predict("p", { prompt: "p", image, api_key: "k" });
    expect((r.terminal as { output: Record<string, unknown> }).output).toMatchObject({
      code: "abc",
      steps: 10,
      scale: 1.5,
      scheduler: "DDIM",
      size: 512,
      mode: "fast",
      tags: [],
      weights: [0.5],
      document: null,
      images: null,
      extra: null,
    });
  });

  test("a file input that does not exist fails the prediction with the input's name", async () => {
    const w = await ready("outputs-path");
    const r = await w.predict("p", { document: "/nonexistent/kiln/file.txt" });
    expect(r.terminal).toMatchObject({ type: "failed", error: expect.stringContaining("No such file") });
  });
});

describe("outputs", () => {
  test("a Path in, a Path out", async () => {
    const w = await ready("outputs-path");
    const r = await w.predict("p", { document: tempFile("in.txt", "shout this") });
    expect(fileOf((r.terminal as { output: unknown }).output)).toBe("SHOUT THIS");
  });

  test("a BaseModel output becomes an object with encoded fields", async () => {
    const w = await ready("outputs-model");
    const r = await w.predict("p", { text: "abc" });
    const output = (r.terminal as { output: Record<string, unknown> }).output;
    expect(output).toMatchObject({ text: "cba", length: 3, note: null });
    expect(fileOf(output.file)).toBe("cba");
  });

  test("a list of Paths stays a list of files", async () => {
    const w = await ready("outputs-list");
    const r = await w.predict("p", { count: 2 });
    const output = (r.terminal as { output: unknown[] }).output;
    expect(output.map(fileOf)).toEqual(["file 0", "file 1"]);
    expect((await w.predict("q", { count: 0 })).terminal).toMatchObject({ output: [] });
  });

  test("a non-iterator float output, and an exception, which fails only that prediction", async () => {
    const w = await ready("exception");
    const r = await w.predict("p", { divisor: 0 });
    expect(r.terminal).toEqual({ type: "failed", id: "p", error: "division by zero" });
    expect(r.logs).toContain("Traceback");
    expect(r.logs).toContain("ZeroDivisionError");
    expect(r.logs).toContain("predict.py");
    expect(
      r.messages.filter((m) => m.type === "log").every((m) => m.type === "log" && m.source === "stderr"),
    ).toBe(true);
    expect((await w.predict("q", { divisor: 4 })).terminal).toMatchObject({ type: "done", output: 0.25 });
  });

  test("Iterator[Path] streams chunks, then done without output", async () => {
    const w = await ready("iterator");
    const r = await w.predict("p", { steps: 3 });
    expect(r.chunks.map(fileOf)).toEqual(["step 0", "step 1", "step 2"]);
    expect(r.terminal).toEqual({ type: "done", id: "p" });
    expect(r.logs).toBe("step 0\nstep 1\nstep 2\n");
    // logs and chunks keep their order
    expect(r.messages.map((m) => m.type)).toEqual([
      "log",
      "output",
      "log",
      "output",
      "log",
      "output",
      "done",
    ]);
  });

  test("ConcatenateIterator[str] streams tokens", async () => {
    const w = await ready("concatenate");
    const r = await w.predict("p", { prompt: "the quick fox" });
    expect(r.chunks).toEqual(["the ", "quick ", "fox "]);
    expect(r.terminal).toEqual({ type: "done", id: "p" });
  });
});

describe("async predictors", () => {
  test("async setup and predict; loaded says async", async () => {
    const w = await ready("async-predict");
    expect(w.messages[0]).toMatchObject({ type: "loaded", async: true });
    expect((await w.predict("p", { name: "ada" })).terminal).toMatchObject({ output: "hello ada" });
  });

  test("concurrency > 1: predictions overlap and logs stay with their prediction", async () => {
    const w = await ready("async-predict", { env: { COG_MAX_CONCURRENCY: "4" } });
    const started = Date.now();
    const results = await Promise.all(["a", "b", "c"].map((n) => w.predict(n, { name: n, delay: 0.6 })));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(1500); // three 0.6 s predictions, run together
    for (const [i, n] of ["a", "b", "c"].entries()) {
      expect(results[i]?.terminal).toMatchObject({ type: "done", output: `hello ${n}` });
      expect(results[i]?.logs).toBe(`start ${n}\nend ${n}\n`);
    }
  });

  test("predictions that finish together end in one write, each done in order", async () => {
    const w = await ready("async-quiet", { env: { COG_MAX_CONCURRENCY: "8" } });
    const ids = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"];
    const before = w.reads;
    // One write: the worker reads all eight at once (under PIPE_BUF) and runs them in one turn.
    w.sendRaw(
      ids
        .map((id) =>
          JSON.stringify({ type: "predict", id, kind: "predict", input: { text: id }, context: {} }),
        )
        .map((f) => `${f}\n`)
        .join(""),
    );
    await Promise.all(ids.map((id) => w.waitFor((m) => m.type === "done" && m.id === id)));
    const done = w.messages.filter((m) => m.type === "done");
    expect(done).toEqual(ids.map((id) => ({ type: "done", id, output: id })));
    expect(w.reads - before).toBe(1);
  });

  test("AsyncConcatenateIterator streams; metrics of concurrent predictions stay apart", async () => {
    const w = await ready("async-iterator", { env: { COG_MAX_CONCURRENCY: "4" } });
    const [one, two] = await Promise.all([
      w.predict("one", { prompt: "one two three", delay: 0.05 }),
      w.predict("two", { prompt: "four five", delay: 0.05 }),
    ]);
    expect(one?.chunks).toEqual(["one ", "two ", "three "]);
    expect(two?.chunks).toEqual(["four ", "five "]);
    expect(one?.metrics).toHaveLength(3);
    expect(two?.metrics).toHaveLength(2);
    expect(one?.metrics[0]).toMatchObject({ name: "tokens", value: 1, mode: "incr" });
    expect(one?.logs).toBe("one token 0\none token 1\none token 2\n");
    expect(two?.logs).toBe("four token 0\nfour token 1\n");
  });

  test("a sync predictor cannot run with concurrency > 1: setup fails and says why", async () => {
    const w = new PythonWorker({ root: "hello", env: { COG_MAX_CONCURRENCY: "2" } });
    workers.push(w);
    await w.waitType("loaded");
    const r = await w.setup();
    expect(r).toMatchObject({ type: "setup_failed", error: expect.stringContaining("is not async") });
    expect(r.type === "setup_failed" && r.error).toContain("Predictor.predict()");
  });
});

describe("setup, weights, healthcheck, metrics", () => {
  test("setup failure names file, line and cause; logs keep the traceback; predictions fail", async () => {
    const w = new PythonWorker({ root: "setup-fails" });
    workers.push(w);
    await w.waitType("loaded");
    const r = await w.setup();
    expect(r).toEqual({
      type: "setup_failed",
      error: "predict.py:10: RuntimeError: could not load weights.pth",
    });
    expect(w.setupLogs()).toContain("loading weights\n");
    expect(w.setupLogs()).toContain("Traceback");
    const p = await w.predict("p", { text: "x" });
    expect(p.terminal).toMatchObject({ type: "failed", error: expect.stringContaining("setup failed") });
    w.send({ type: "healthcheck", seq: 7 });
    expect(await w.waitType("healthcheck_result")).toMatchObject({ seq: 7, ok: false });
  });

  test("setup(weights) receives COG_WEIGHTS as a Path, a URL as a string, or None", async () => {
    for (const [weights, expected] of [
      ["/src/weights.bin", "Path:/src/weights.bin"],
      ["https://example.com/w.tar", "str:https://example.com/w.tar"],
      [null, "NoneType:None"],
    ] as const) {
      const w = new PythonWorker({ root: "setup-weights" });
      workers.push(w);
      await w.waitType("loaded");
      expect(await w.setup(weights)).toEqual({ type: "ready" });
      expect((await w.predict("p")).terminal).toMatchObject({ output: expected });
    }
  });

  test("healthcheck() results: true, false, raised", async () => {
    const w = await ready("healthcheck");
    expect(w.messages[0]).toMatchObject({ hasHealthcheck: true });
    w.send({ type: "healthcheck", seq: 1 });
    expect(await w.waitFor((m) => m.type === "healthcheck_result" && m.seq === 1)).toEqual({
      type: "healthcheck_result",
      seq: 1,
      ok: true,
    });
    await w.predict("bad", { state: "bad" });
    w.send({ type: "healthcheck", seq: 2 });
    expect(await w.waitFor((m) => m.type === "healthcheck_result" && m.seq === 2)).toMatchObject({
      ok: false,
      error: "user-defined healthcheck returned False",
    });
    await w.predict("raise", { state: "raise" });
    w.send({ type: "healthcheck", seq: 3 });
    expect(await w.waitFor((m) => m.type === "healthcheck_result" && m.seq === 3)).toMatchObject({
      ok: false,
      error: expect.stringContaining("GPU fell off the bus"),
    });
  });

  test("healthcheck is answered while a sync prediction runs", async () => {
    const w = await ready("cancel-sleep");
    w.send({ type: "predict", id: "long", kind: "predict", input: { seconds: 5 }, context: {} });
    await runningNow(w, "long");
    w.send({ type: "healthcheck", seq: 9 });
    const started = Date.now();
    expect(await w.waitFor((m) => m.type === "healthcheck_result" && m.seq === 9)).toMatchObject({
      ok: true,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    w.send({ type: "cancel", id: "long" });
    expect((await w.result("long")).terminal.type).toBe("canceled");
  });

  test("record_metric modes, self.record_metric, emit_metric and the request context", async () => {
    const w = await ready("metrics");
    const r = await w.predict("m", { text: "a b" }, { context: { user: "ada" } });
    expect(r.terminal).toMatchObject({ type: "done", output: "ada" });
    expect(r.metrics.map(({ name, value, mode }) => [name, value, mode])).toEqual([
      ["input_chars", 3, "replace"],
      ["words", 1, "incr"],
      ["word_list", "a", "append"],
      ["words", 1, "incr"],
      ["word_list", "b", "append"],
      ["timing.inference", 0.25, "replace"],
      ["legacy", 7, "replace"],
    ]);
    expect(r.logs).toContain("FutureWarning: emit_metric() is deprecated");
    expect((await w.predict("n", { text: "" })).terminal).toMatchObject({ output: "anonymous" });
  });
});

/** Resolves once prediction `id` has printed "started": it is running in the predictor now. */
function runningNow(w: PythonWorker, id: string): Promise<unknown> {
  return w.waitFor((m) => m.type === "log" && m.id === id && m.data.includes("started"));
}

describe("cancellation and sys.exit", () => {
  test("canceling a time.sleep loop raises CancelationException in the predictor", async () => {
    const w = await ready("cancel-sleep");
    w.send({ type: "predict", id: "c", kind: "predict", input: { seconds: 30 }, context: {} });
    await runningNow(w, "c");
    const started = Date.now();
    w.send({ type: "cancel", id: "c" });
    const r = await w.result("c");
    expect(r.terminal).toEqual({ type: "canceled", id: "c" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r.logs).toBe("started\ncleaning up after cancel\n");
    expect((await w.predict("next", { seconds: 0.1 })).terminal).toMatchObject({ output: "finished" });
  });

  test("canceling a predictor that floods logs and chunks ends cleanly, every frame intact", async () => {
    const w = await ready("cancel-chatty");
    for (const id of ["a", "b", "c"]) {
      w.send({ type: "predict", id, kind: "predict", input: {}, context: {} });
      // Cancel in the middle of the flood: once the third chunk has arrived (an event, not a sleep).
      await w.waitFor((m) => m.type === "output" && m.id === id && String(m.chunk).startsWith("chunk 3 "));
      w.send({ type: "cancel", id });
      const r = await w.result(id);
      expect(r.terminal.type).toBe("canceled");
      expect(r.chunks.length).toBeGreaterThan(1);
      for (const chunk of r.chunks) expect(chunk).toMatch(/^chunk \d+ y{6000}$/);
    }
  });

  test("canceling interrupts a single long time.sleep too", async () => {
    const w = await ready("cancel-sleep");
    w.send({ type: "predict", id: "c", kind: "predict", input: { seconds: 60, loop: false }, context: {} });
    await runningNow(w, "c");
    const started = Date.now();
    w.send({ type: "cancel", id: "c" });
    expect((await w.result("c")).terminal.type).toBe("canceled");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a cancel for an unknown or finished prediction is harmless", async () => {
    const w = await ready("hello");
    w.send({ type: "cancel", id: "nope" });
    expect((await w.predict("p", { text: "x" })).terminal.type).toBe("done");
    w.send({ type: "cancel", id: "p" });
    expect((await w.predict("q", { text: "y" })).terminal).toMatchObject({ output: "hello y" });
  });

  test("canceling an asyncio.sleep cancels only that task", async () => {
    const w = await ready("cancel-async", { env: { COG_MAX_CONCURRENCY: "2" } });
    w.send({ type: "predict", id: "stay", kind: "predict", input: { seconds: 0.6 }, context: {} });
    w.send({ type: "predict", id: "go", kind: "predict", input: { seconds: 30 }, context: {} });
    await runningNow(w, "go");
    w.send({ type: "cancel", id: "go" });
    const go = await w.result("go");
    expect(go.terminal).toEqual({ type: "canceled", id: "go" });
    expect(go.logs).toBe("started\nasync cleanup after cancel\n");
    expect((await w.result("stay")).terminal).toMatchObject({ type: "done", output: "finished" });
  });

  test("a cancel right behind its predict (before the task starts) still ends it canceled", async () => {
    const w = await ready("cancel-async", { env: { COG_MAX_CONCURRENCY: "2" } });
    for (const id of ["x1", "x2", "x3"]) {
      w.send({ type: "predict", id, kind: "predict", input: { seconds: 30 }, context: {} });
      w.send({ type: "cancel", id });
      expect((await w.result(id)).terminal).toEqual({ type: "canceled", id });
    }
    const sync = await ready("cancel-sleep");
    sync.send({ type: "predict", id: "s1", kind: "predict", input: { seconds: 30 }, context: {} });
    sync.send({ type: "cancel", id: "s1" });
    expect((await sync.result("s1")).terminal).toEqual({ type: "canceled", id: "s1" });
  });

  test("sys.exit() inside predict fails that prediction only", async () => {
    const w = await ready("sys-exit");
    const r = await w.predict("e", { code: 3 });
    expect(r.terminal).toEqual({ type: "failed", id: "e", error: "Predictor.predict() called sys.exit(3)" });
    expect(r.logs).toBe("giving up\n");
    expect((await w.predict("ok", { code: 0 })).terminal).toMatchObject({ output: "still alive" });
  });

  test(
    "prints from a thread the predictor started go to the running prediction; such threads do not block exit",
    { tags: ["slow"] },
    async () => {
      const w = await ready("user-thread");
      const r = await w.predict("t");
      expect(r.terminal).toMatchObject({ type: "done", output: "ok" });
      expect(r.logs).toBe("from a worker thread\n");
      w.send({ type: "shutdown" });
      expect(await w.exited).toEqual({ code: 0, signal: null });
    },
  );

  test("the worker exits when the server closes fd 3 or sends shutdown", async () => {
    const w = await ready("hello");
    w.send({ type: "shutdown" });
    expect(await w.exited).toEqual({ code: 0, signal: null });
  });
});
