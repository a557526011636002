/**
 * The real pieces together: hello-ts compiled by compileTsPredictor, the real node worker, the server.
 * Guards the seams between SDK schema, validateInput, the worker protocol and the HTTP contract.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTsPredictor } from "../../../src/build/ts-predictor.js";
import { startServer, type RunningServer } from "../../../src/runtime/server.js";
import { workerBundle } from "./harness.js";

const REPO = resolve(import.meta.dirname, "../../..");
let root = "";
let compiled = "";
let server: RunningServer;
const extra: RunningServer[] = [];

async function serve(name: string): Promise<RunningServer> {
  const s = await startServer({
    root,
    predictor: { language: "node", file: compiled, name },
    host: "127.0.0.1",
    port: 0,
    logLevel: "silent",
    nodeWorkerEntry: await workerBundle(),
  });
  expect(await s.ready).toBe("READY");
  return s;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}, on = server) {
  const res = await fetch(`${on.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "kiln-e2e-"));
  cpSync(join(REPO, "examples/hello-ts"), root, { recursive: true });
  const { outFile } = await compileTsPredictor(root, {
    raw: "predict.ts:predictor",
    file: "predict.ts",
    name: "predictor",
    language: "typescript",
  });
  compiled = relative(root, outFile);
  server = await serve("predictor");
}, 60_000);

afterAll(async () => {
  await Promise.all([server, ...extra].map((s) => s?.close()));
  rmSync(root, { recursive: true, force: true });
});

describe("hello-ts behind the real server", () => {
  it("serves the predictor's OpenAPI schema", async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    expect(doc.components.schemas.Input?.required).toBeUndefined();
    expect(doc.components.schemas.style).toEqual({
      type: "string",
      title: "style",
      description: "An enumeration.",
      enum: ["plain", "shout", "whisper"],
    });
  });

  it("runs a prediction with defaults, logs and metrics", async () => {
    const { status, body } = await post("/predictions", { input: { name: "Ada", times: 2, style: "shout" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "succeeded",
      output: "HELLO, ADA! HELLO, ADA!",
      logs: "greeting Ada 2x\n",
    });
    expect(body.metrics).toMatchObject({ greetings: 2 });
  });

  it("downloads a data: URI file input and passes its path", async () => {
    const sig = `data:text/plain;base64,${Buffer.from("kiln\n").toString("base64")}`;
    const { body } = await post("/predictions", { input: { signature: sig } });
    expect(body).toMatchObject({ status: "succeeded", output: "Hello, world! -- kiln" });
  });

  it("rejects bad input with pydantic-style 422 details", async () => {
    const { status, body } = await post("/predictions", { input: { times: 9, style: "loud", name: 3 } });
    expect(status).toBe(422);
    expect(body.detail).toEqual([
      { loc: ["body", "input", "name"], msg: "Input should be a valid string", type: "string_type" },
      {
        loc: ["body", "input", "times"],
        msg: "Input should be less than or equal to 5",
        type: "less_than_equal",
      },
      { loc: ["body", "input", "style"], msg: "Input should be 'plain', 'shout' or 'whisper'", type: "enum" },
    ]);
  });

  it("returns a file output as a data: URI", async () => {
    const banner = await serve("banner");
    extra.push(banner);
    const { body } = await post("/predictions", { input: { name: "Cy" } }, {}, banner);
    expect(body).toMatchObject({ status: "succeeded" });
    const output = String(body.output);
    expect(output).toMatch(/^data:text\/plain;base64,/);
    expect(Buffer.from(output.split(",")[1] ?? "", "base64").toString()).toBe("Hello, Cy!\n");
  });

  it("collects a streamed output into a list, and streams it over SSE", async () => {
    const stream = await serve("stream");
    extra.push(stream);
    const { body } = await post("/predictions", { input: { name: "Bob" } }, {}, stream);
    expect(body).toMatchObject({ status: "succeeded", output: ["Hello,", " Bob!"] });
    const res = await fetch(`${stream.url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ input: { name: "Eve" } }),
    });
    const text = await res.text();
    expect(text).toContain("event: output");
    expect(text).toContain('" Eve!"');
    expect(text).toContain("event: completed");
  });
});
