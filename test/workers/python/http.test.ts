/**
 * Cog-style Python predictors through the real kiln server over HTTP (port 0): the container API contract
 * as a client sees it, with the Python worker behind it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { RunningServer, ServerOptions } from "../../../src/runtime/server.js";
import { startPythonServer } from "../../helpers/python-server.js";
import { startReceiver } from "../../runtime/helpers.js";
import { FIXTURES, REPO_ROOT } from "./harness.js";

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(
  fixture: string,
  opts: Partial<ServerOptions> & { file?: string; name?: string } = {},
): Promise<RunningServer> {
  const { file, name, ...rest } = opts;
  const root = path.isAbsolute(fixture) ? fixture : path.join(FIXTURES, fixture);
  const server = await startPythonServer(root, { file, name }, rest);
  servers.push(server);
  return server;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function call(
  server: RunningServer,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(server.url + route, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const dataUri = (text: string, type = "text/plain") =>
  `data:${type};base64,${Buffer.from(text).toString("base64")}`;
const decodeDataUri = (uri: string) =>
  Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8");

describe("python predictors over HTTP", () => {
  test("hello: discovery, health with setup logs, openapi from the signature, a sync prediction", async () => {
    const s = await serve("hello");
    expect((await call(s, "/")).body).toMatchObject({ predictions_url: "/predictions" });
    const health = await call(s, "/health-check");
    expect(health.body).toMatchObject({ status: "READY", setup: { status: "succeeded" } });
    expect(health.body.setup.logs).toContain("loading the greeting model");
    const openapi = (await call(s, "/openapi.json")).body;
    expect(openapi.components.schemas.Input).toEqual({
      type: "object",
      properties: {
        text: { type: "string", title: "Text", description: "Text to prefix with 'hello '", "x-order": 0 },
      },
      required: ["text"],
      title: "Input",
    });
    expect(openapi.components.schemas.Output).toEqual({ type: "string", title: "Output" });
    const r = await call(s, "/predictions", { input: { text: "world" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "succeeded",
      output: "hello world",
      logs: "greeting world\n",
      error: null,
    });
    expect(r.body.metrics.predict_time).toBeGreaterThan(0);
  });

  test("validation happens before the worker: 422 with Cog's detail shape", async () => {
    const s = await serve("hello");
    const r = await call(s, "/predictions", { input: {} });
    expect(r.status).toBe(422);
    expect(r.body.detail).toEqual([
      expect.objectContaining({ loc: ["body", "input", "text"], msg: "Field required" }),
    ]);
    const bad = await call(s, "/predictions", { input: { text: 3 } });
    expect(bad.status).toBe(422);
  });

  test("inputs: data-URI files become cog.Path/File, secrets are redacted in the response", async () => {
    const s = await serve("inputs");
    const r = await call(s, "/predictions", {
      input: {
        prompt: "a cat",
        image: dataUri("pixels"),
        document: dataUri("a document"),
        api_key: "sk-123",
        scale: 2,
        mode: "slow",
        tags: ["x"],
      },
    });
    expect(r.body.status).toBe("succeeded");
    expect(r.body.output).toMatchObject({
      image_type: "Path",
      image_text: "pixels",
      document: "a document",
      secret_repr: "Secret(**********)",
      scale: 2,
      scale_type: "float",
      mode: "slow",
      tags: ["x"],
      steps: 10,
    });
    expect(r.body.input.api_key).toBe("**********");
    const invalid = await call(s, "/predictions", {
      input: { prompt: "", image: dataUri("x"), api_key: "k", steps: 99, mode: "medium", code: "ABCD" },
    });
    expect(invalid.status).toBe(422);
    const fields = invalid.body.detail.map((d: { loc: string[] }) => d.loc[2]).sort();
    expect(fields).toEqual(["code", "mode", "prompt", "steps"]);
  });

  test("file in, file out: the output Path comes back as a data URI", async () => {
    const s = await serve("outputs-path");
    const r = await call(s, "/predictions", { input: { document: dataUri("shout this") } });
    expect(r.body.status).toBe("succeeded");
    expect(decodeDataUri(r.body.output)).toBe("SHOUT THIS");
  });

  test("BaseModel output and a list of files keep their shapes", async () => {
    const model = await serve("outputs-model");
    const m = await call(model, "/predictions", { input: { text: "abc" } });
    expect(m.body.output).toMatchObject({ text: "cba", length: 3, note: null });
    expect(decodeDataUri(m.body.output.file)).toBe("cba");
    const list = await serve("outputs-list");
    const l = await call(list, "/predictions", { input: { count: 1 } });
    expect(l.body.output).toHaveLength(1);
    expect(decodeDataUri(l.body.output[0])).toBe("file 0");
  });

  test("iterators: the response holds every chunk; SSE streams them as they come", async () => {
    const s = await serve("concatenate");
    const r = await call(s, "/predictions", { input: { prompt: "to be or not" } });
    expect(r.body).toMatchObject({ status: "succeeded", output: ["to ", "be ", "or ", "not "] });
    const res = await fetch(`${s.url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { prompt: "a b" } }),
    });
    const text = await res.text();
    expect(text).toContain("event: output");
    expect(text).toContain("event: completed");
    const files = await serve("iterator");
    const it = await call(files, "/predictions", { input: { steps: 2 } });
    expect(it.body.output.map(decodeDataUri)).toEqual(["step 0", "step 1"]);
    expect(it.body.logs).toBe("step 0\nstep 1\n");
  });

  test("async predictor with concurrency 3: predictions overlap, logs stay apart", async () => {
    const s = await serve("async-predict", { maxConcurrency: 3, env: { COG_MAX_CONCURRENCY: "3" } });
    const started = Date.now();
    const results = await Promise.all(
      ["a", "b", "c"].map((n) => call(s, "/predictions", { input: { name: n, delay: 0.6 } })),
    );
    expect(Date.now() - started).toBeLessThan(1600);
    for (const [i, n] of ["a", "b", "c"].entries()) {
      expect(results[i]?.body).toMatchObject({
        status: "succeeded",
        output: `hello ${n}`,
        logs: `start ${n}\nend ${n}\n`,
      });
    }
  });

  test("metrics recorded by the predictor appear in the prediction", async () => {
    const s = await serve("metrics");
    const r = await call(s, "/predictions", { input: { text: "a b c" }, context: { user: "ada" } });
    expect(r.body).toMatchObject({ status: "succeeded", output: "ada" });
    expect(r.body.metrics).toMatchObject({ input_chars: 5, words: 3, word_list: ["a", "b", "c"], legacy: 7 });
  });

  test("canceling a time.sleep loop and an asyncio.sleep over HTTP", async () => {
    for (const fixture of ["cancel-sleep", "cancel-async"]) {
      const s = await serve(fixture);
      // The predictor prints "started" once it is running; its first logs webhook carries that line.
      const hook = await startReceiver();
      const pending = call(s, "/predictions", {
        id: "slow1",
        input: { seconds: 30 },
        webhook: hook.url,
        webhook_events_filter: ["logs"],
      });
      await hook.waitForBody((p: { logs?: string }) => Boolean(p.logs?.includes("started")));
      await hook.close();
      const started = Date.now();
      expect((await call(s, "/predictions/slow1/cancel", {})).status).toBe(200);
      const r = await pending;
      expect(r.body).toMatchObject({ id: "slow1", status: "canceled" });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(r.body.logs).toMatch(/clean(ing )?up after cancel/);
      expect((await call(s, "/predictions/slow1/cancel", {})).status).toBe(404);
      const next = await call(s, "/predictions", { input: { seconds: 0.05 } });
      expect(next.body).toMatchObject({ status: "succeeded", output: "finished" });
    }
  });

  test("sys.exit() and exceptions fail one prediction; the server stays READY", async () => {
    const s = await serve("sys-exit");
    const r = await call(s, "/predictions", { input: { code: 2 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "failed",
      error: "Predictor.predict() called sys.exit(2)",
      logs: "giving up\n",
    });
    expect((await call(s, "/health-check")).body.status).toBe("READY");
    expect((await call(s, "/predictions", { input: { code: 0 } })).body.output).toBe("still alive");
  });

  test("a user healthcheck() returning False makes the server UNHEALTHY", async () => {
    const s = await serve("healthcheck");
    expect((await call(s, "/health-check")).body.status).toBe("READY");
    await call(s, "/predictions", { input: { state: "bad" } });
    const h = await call(s, "/health-check");
    expect(h.body.status).toBe("UNHEALTHY");
    expect(h.body.user_healthcheck_error).toContain("returned False");
    await call(s, "/predictions", { input: { state: "ok" } });
    expect((await call(s, "/health-check")).body.status).toBe("READY");
  });

  test("trainings run the train.py function", async () => {
    const s = await serve("train", { train: { language: "python", file: "train.py", name: "train" } });
    const r = await call(s, "/trainings", { input: { data: dataUri("12345"), epochs: 2 } });
    expect(r.body).toMatchObject({ status: "succeeded", logs: "trained 2 epochs\n" });
    expect(decodeDataUri(r.body.output.weights)).toBe("2 epochs over 5 bytes");
  });

  test.each([
    ["setup-fails", "predict.py:10: RuntimeError: could not load weights.pth"],
    ["missing-module", "predict.py:2: ModuleNotFoundError: No module named 'torch_that_is_not_installed'"],
    ["syntax-error", "predict.py:5: SyntaxError: expected ':'"],
    ["wrong-class", "predict.py: does not define 'Predictor'"],
    ["unsupported-annotation", "predict.py:5: Predictor.predict(): input 'ids': unsupported type set[int]"],
    ["bad-default", "predict.py:5: Predictor.predict(): input 'steps': default 50 is invalid"],
  ])("%s: SETUP_FAILED naming file, line and cause; predictions get 503", async (fixture, cause) => {
    const s = await serve(fixture);
    const h = await call(s, "/health-check");
    expect(h.body.status).toBe("SETUP_FAILED");
    expect(h.body.setup.status).toBe("failed");
    expect(h.body.setup.logs).toContain(cause);
    const r = await call(s, "/predictions", { input: { text: "x" } });
    expect(r.status).toBe(503);
  });

  test("the example model streams filtered images over HTTP", async () => {
    const root = path.join(REPO_ROOT, "examples/python-ppm-filter");
    const s = await serve(root);
    const image = `data:image/x-portable-pixmap;base64,${readFileSync(path.join(root, "sample.ppm")).toString("base64")}`;
    const r = await call(s, "/predictions", { input: { image, filter: "invert", passes: 2 } });
    expect(r.body.status).toBe("succeeded");
    expect(r.body.output).toHaveLength(2);
    const last = Buffer.from(r.body.output[1].slice(r.body.output[1].indexOf(",") + 1), "base64");
    expect(last.equals(readFileSync(path.join(root, "sample.ppm")))).toBe(true);
    expect(r.body.metrics.pixels).toBe(48 * 32);
  });
});
