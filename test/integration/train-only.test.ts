/**
 * A train-only Cog project (test/fixtures/train-only: `train: "train.py:train"` and no `predict:`, as
 * Cog's training docs lay one out), end to end through the real CLI: `kiln train --no-docker`, `kiln
 * serve --no-docker`, then `kiln build` (an image with KILN_TRAIN and no KILN_PREDICTOR), `kiln train` in
 * Docker and `kiln serve IMAGE`. Every way in serves /trainings and /v1/trainings and refuses
 * predictions with a 404 that says why; `kiln predict` points at `kiln train`.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/docker/engine.js";
import { EXIT_CODES } from "../../src/errors.js";
import { requireBuildEnv } from "./build-helpers.js";
import { served, type Served } from "./client-helpers.js";
import { kiln } from "./predict-cli.js";
import { DOCKER_CLI, engine, kilnContainers, removeImage } from "./predict-helpers.js";

const FIXTURE = join(import.meta.dirname, "../fixtures/train-only");
const RUN = `kiln-train-only.run=${process.pid}`;
const LABELS = { KILN_CONTAINER_LABELS: `kiln.test=1,${RUN}` };
const QUIET = ["--node-image", "kiln-test/node", "--progress", "quiet"];
const TAG = `kiln-train-only-words:${process.pid}`;
const INPUTS = ["-i", "train_data=@data.txt", "-i", "learning_rate=1", "-i", "seed=7"];
/** What train.py learns from data.txt with those inputs. */
const LEARNED = { seed: 7, weights: { and: 2, cat: 1, owl: 2, the: 3 } };
const dirs: string[] = [];

function project(docker: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-train-only-"));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  if (docker) {
    const yaml = readFileSync(join(dir, "cog.yaml"), "utf8").replace(
      /^build:\n/m,
      "build:\n  base_image: kiln-test/python\n",
    );
    writeFileSync(join(dir, "cog.yaml"), `${yaml}image: ${TAG}\n`);
  }
  return dir;
}

const run = (args: string[], cwd: string) => kiln(args, { cwd, env: LABELS });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const dataUri = (file: string): string => `data:text/plain;base64,${readFileSync(file).toString("base64")}`;
const decode = (uri: string): unknown =>
  JSON.parse(Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64").toString("utf8"));

/** The served model: trainings work on both APIs, predictions are refused, the schema shows training only. */
async function expectServedTrainOnly(s: Served, dir: string): Promise<void> {
  const health = (await (await fetch(`${s.url}/health-check`)).json()) as { status: string };
  expect(health.status).toBe("READY");
  const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toContain("/trainings");
  expect(Object.keys(doc.paths).filter((p) => p.startsWith("/predictions"))).toEqual([]);

  const predict = await post(`${s.url}/predictions`, { input: {} });
  expect(predict.status).toBe(404);
  expect(predict.body.detail).toMatch(/this model has no predict: entry/);
  const v1Predict = await post(`${s.url}/v1/predictions`, { version: "any", input: {} });
  expect(v1Predict.status).toBe(404);
  expect(v1Predict.body.detail).toMatch(/has no predict: entry/);

  const input = { train_data: dataUri(join(dir, "data.txt")), learning_rate: 1, seed: 7 };
  const trained = await post(`${s.url}/trainings`, { input });
  expect(trained.status, JSON.stringify(trained.body)).toBe(200);
  expect(trained.body.status).toBe("succeeded");
  expect(decode(trained.body.output.weights)).toEqual(LEARNED);

  const model = (await (await fetch(`${s.url}/v1/models/kiln/words`)).json()) as {
    latest_version: { id: string };
  };
  const created = await post(`${s.url}/v1/models/kiln/words/versions/${model.latest_version.id}/trainings`, {
    destination: "kiln/words-tuned",
    input,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body).toMatchObject({ destination: "kiln/words-tuned", status: expect.any(String) });
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("a train-only project without Docker", () => {
  it("kiln train --no-docker writes the weights; kiln predict exits 3 pointing at kiln train", async () => {
    const dir = project(false);
    const r = await run(["train", "--no-docker", ...INPUTS], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("learned 4 words");
    expect(JSON.parse(readFileSync(join(dir, "weights"), "utf8"))).toEqual(LEARNED);

    const p = await run(["predict", "--no-docker", "-i", "x=1"], dir);
    expect(p.code).toBe(EXIT_CODES.manifest);
    expect(p.stderr).toMatch(/no `predict:` entry/);
    expect(p.stderr).toMatch(/this project only trains .*kiln train -i name=value/);
  });

  it("kiln serve --no-docker serves trainings only", async () => {
    const dir = project(false);
    const s = await served(["serve", "--no-docker", "-p", "0"], dir);
    try {
      await expectServedTrainOnly(s, dir);
    } finally {
      await s.stop();
    }
  });
});

describe("a train-only project in Docker", () => {
  let docker: Engine;
  let dir: string;
  beforeAll(async () => {
    await requireBuildEnv();
    docker = await engine();
    dir = project(true);
  });
  afterAll(async () => {
    expect(await kilnContainers(docker, RUN)).toEqual([]);
    await removeImage(docker, TAG);
  });

  it("kiln build makes an image with KILN_TRAIN and no KILN_PREDICTOR", async () => {
    const r = await run(["build", ...QUIET, "-t", TAG], dir);
    expect(r.code, r.stderr).toBe(0);
    const args = ["image", "inspect", "--format", "{{json .Config.Env}}", TAG];
    const env = JSON.parse((await promisify(execFile)(DOCKER_CLI, args)).stdout) as string[];
    expect(env).toContain("KILN_TRAIN=train.py:train");
    expect(env.filter((e) => e.startsWith("KILN_PREDICTOR="))).toEqual([]);
  });

  it("kiln train runs in the image; kiln predict IMAGE refuses, pointing at kiln train", async () => {
    const r = await run(["train", ...QUIET, ...INPUTS, "-o", "docker-weights.json"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "docker-weights.json"), "utf8"))).toEqual(LEARNED);

    const p = await run(["predict", TAG, "-i", "x=1"], dir);
    expect(p.code).toBe(EXIT_CODES.usage);
    expect(p.stderr).toMatch(/has no predictor: it only trains/);
    expect(p.stderr).toContain(`kiln train ${TAG} -i name=value`);
  });

  it("kiln serve IMAGE serves trainings only", async () => {
    const s = await served(["serve", TAG, "-p", "0"], tmpdir());
    try {
      await expectServedTrainOnly(s, dir);
    } finally {
      await s.stop();
    }
  });
});
