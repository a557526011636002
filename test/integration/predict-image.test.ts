/**
 * `kiln predict IMAGE` end to end through the real CLI process and engine, with an image that carries a
 * run.cog.openapi_schema label and runs the fake model server where kiln's server lives. Covers input
 * errors before any container exists, outputs, --json, failures, SETUP_FAILED and Ctrl-C cleanup.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../src/docker/engine.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { REGISTRY, requireRegistry } from "../helpers/docker.js";
import {
  buildFakeModelImage,
  cogSchema,
  DOCKER_CLI,
  engine,
  kilnContainers,
  removeImage,
} from "./predict-helpers.js";
import { collect, kiln, spawnKiln, waitForOutput } from "./predict-cli.js";

const TAG = `kiln-test/fake-model-cli:${process.pid}`;
const SCHEMA = cogSchema({
  input: {
    text: { title: "Text", type: "string", "x-order": 0 },
    delay_ms: { title: "Delay Ms", type: "integer", "x-order": 1, default: 0, minimum: 0, maximum: 60000 },
    fail: { title: "Fail", type: "boolean", "x-order": 2, default: false },
    file: { title: "File", type: "string", format: "uri", "x-order": 3, nullable: true },
    tags: { title: "Tags", type: "array", items: { type: "string" }, "x-order": 4, default: [] },
    style: { allOf: [{ $ref: "#/components/schemas/style" }], "x-order": 5, default: "plain" },
  },
  required: ["text"],
  output: { type: "array", items: { type: "string" }, "x-cog-array-type": "iterator" },
  schemas: {
    style: { title: "style", description: "An enumeration.", enum: ["plain", "fancy"], type: "string" },
  },
});

let docker: Engine;
let dir: string;

beforeAll(async () => {
  docker = await engine();
  dir = await mkdtemp(join(tmpdir(), "kiln-predict-image-"));
  await buildFakeModelImage(TAG, SCHEMA);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  expect(await kilnContainers(docker)).toEqual([]);
  await removeImage(docker, TAG);
});

/** Containers created with the test label between two instants (from the engine's event log). */
async function createdBetween(since: number, until: number): Promise<number> {
  const stream = await docker.events(Math.floor(since / 1000), Math.ceil(until / 1000) + 1, {
    type: ["container"],
    event: ["create"],
    label: ["kiln.test=1"],
  });
  let text = "";
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text.split("\n").filter((l) => l.includes(TAG)).length;
}

describe("kiln predict IMAGE", () => {
  // stdout is a pipe here, so the iterator's collected output is printed as JSON, as `cog predict` does.
  it("runs one prediction, prints the iterator output as JSON when stdout is not a terminal, and leaves no container", async () => {
    const r = await kiln(["predict", TAG, "-i", "text=hello world"], { cwd: dir });
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["hello", "world"]);
    expect(r.stderr).toContain("predicting");
    expect(await kilnContainers(docker)).toEqual([]);
  });

  it("builds lists from repeated -i and round-trips a file byte for byte", async () => {
    const list = await kiln(["predict", TAG, "-i", "text=a", "-i", "tags=x", "-i", "tags=y"], { cwd: dir });
    expect(JSON.parse(list.stdout)).toEqual(["a", "x", "y"]);
    const bytes = randomBytes(200_000);
    await writeFile(join(dir, "in.bin"), bytes);
    const r = await kiln(["predict", TAG, "-i", "text=", "-i", "file=@in.bin", "-o", "out/result.bin"], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Written output to out/result.bin");
    expect((await readFile(join(dir, "out", "result.bin"))).equals(bytes)).toBe(true);
  });

  it("--json prints the whole prediction", async () => {
    const r = await kiln(["predict", TAG, "--json", '{"text": "j s"}'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "succeeded",
      output: ["j", "s"],
      input: { text: "j s" },
    });
  });

  it("reports every kind of input mistake before any container is created", async () => {
    const cases: [string[], string][] = [
      [["-i", "text=x", "-i", "txet=y"], 'txet: unknown input (did you mean "text"?)'],
      [["-i", "delay_ms=3"], "text: required input is missing: expected a string"],
      [["-i", "text=x", "-i", "delay_ms=soon"], 'delay_ms: expected an integer from 0 to 60000, got "soon"'],
      [
        ["-i", "text=x", "-i", "delay_ms=70000"],
        "delay_ms: 70000 is too large: expected an integer from 0 to 60000",
      ],
      [["-i", "text=x", "-i", "style=bold"], 'style: got "bold", expected one of: "plain", "fancy"'],
    ];
    const since = Date.now();
    for (const [args, message] of cases) {
      const r = await kiln(["predict", TAG, ...args], { cwd: dir });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(await createdBetween(since, Date.now())).toBe(0);
  });

  it("exits 1 and shows the error when the prediction fails", async () => {
    const r = await kiln(["predict", TAG, "-i", "text=x", "-i", "fail=true"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: the prediction failed: boom: asked to fail");
  });

  it("reports SETUP_FAILED with the setup logs (exit 7)", async () => {
    const r = await kiln(["predict", TAG, "-i", "text=x", "-e", "FAKE_MODE=setup_failed"], { cwd: dir });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("the model's setup() failed");
    expect(r.stderr).toContain("RuntimeError: weights missing");
    expect(await kilnContainers(docker)).toEqual([]);
  });

  it("Ctrl-C cancels the prediction and removes the container", async () => {
    const child = await spawnKiln(
      ["predict", TAG, "-i", `text=${"w ".repeat(40).trim()}`, "-i", "delay_ms=300"],
      { cwd: dir },
    );
    const done = collect(child);
    // The prediction's first log line: it is running (stdout is not a terminal, so the output itself
    // is only printed once, at the end).
    await waitForOutput(child, /predicting/);
    expect(await kilnContainers(docker)).toHaveLength(1);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("canceled");
    expect(r.stdout.split("\n").length).toBeLessThan(20);
    expect(await kilnContainers(docker)).toEqual([]);
  });

  it("runs a pinned IMAGE@sha256:... reference", async () => {
    await requireRegistry();
    const pushed = `${REGISTRY}/kiln-test/fake-model-pin:${process.pid}`;
    const docker_ = promisify(execFile);
    try {
      await docker_(DOCKER_CLI, ["tag", TAG, pushed]);
      await docker_(DOCKER_CLI, ["push", pushed]);
      const digests = (await docker.inspectImage(pushed)).RepoDigests ?? [];
      const pinned = digests.find((d) => d.startsWith(`${REGISTRY}/kiln-test/fake-model-pin@sha256:`));
      expect(pinned).toBeDefined();
      const r = await kiln(["predict", pinned ?? "", "-i", "text=pinned ok"], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(["pinned", "ok"]);
    } finally {
      await removeImage(docker, pushed);
    }
  });

  it("writes nothing unexpected into the working directory", async () => {
    expect((await readdir(dir)).sort()).toEqual(["in.bin", "out"]);
  });
});
