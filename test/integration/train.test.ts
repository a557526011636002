/**
 * kiln train with Docker, and train -> build -> predict: a Cog-style Python project (function and
 * class trainers) and a TypeScript one (test/fixtures/train-cli) are trained in their built images, the weights land in a file, `kiln
 * build --weights` makes a new version whose setup() loads them, and its predictions prove it. The same
 * weights give the same image id, other weights another. Built offline on the kiln-test base images.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/docker/engine.js";
import { RegistryClient } from "../../src/docker/registry.js";
import { REGISTRY, requireRegistry } from "../helpers/docker.js";
import { requireBuildEnv } from "./build-helpers.js";
import { collect, kiln, spawnKiln } from "./predict-cli.js";
import { DOCKER_CLI, buildFakeModelImage, engine, kilnContainers, removeImage } from "./predict-helpers.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/train-cli");
const RUN = `kiln-train-cli.run=${process.pid}`;
/** Containers of this file only: other test files may run their own at the same time. */
const LABELS = { KILN_CONTAINER_LABELS: `kiln.test=1,${RUN}` };
const QUIET = ["--node-image", "kiln-test/node", "--progress", "quiet"];
const tag = (name: string): string => `kiln-train-cli-${name}:${process.pid}`;
const tags = new Set<string>();
const dirs: string[] = [];
let docker: Engine;

function project(fixture: "python" | "ts", base: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kiln-train-it-${fixture}-`));
  dirs.push(dir);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  const image = tag(`${fixture}-base`);
  tags.add(image);
  const yaml = readFileSync(join(dir, "cog.yaml"), "utf8").replace(
    /^build:\n/m,
    `build:\n  base_image: ${base}\n`,
  );
  writeFileSync(join(dir, "cog.yaml"), `${yaml}image: ${image}\n`);
  return dir;
}

const run = (args: string[], cwd: string) => kiln(args, { cwd, env: LABELS });

/** `kiln build --weights PATH -t NAME --json`: the new version's image id. */
async function buildWith(weights: string, name: string, cwd: string): Promise<string> {
  tags.add(tag(name));
  const r = await run(["build", ...QUIET, "--weights", weights, "-t", tag(name), "--json"], cwd);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { imageId: string }).imageId;
}

async function predictWith(image: string, text: string): Promise<string> {
  const r = await run(["predict", image, "-i", `text=${text}`], tmpdir());
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function imageEnv(image: string): Promise<string[]> {
  const args = ["image", "inspect", "--format", "{{json .Config.Env}}", image];
  return JSON.parse((await promisify(execFile)(DOCKER_CLI, args)).stdout) as string[];
}

beforeAll(async () => {
  docker = await engine();
  await requireBuildEnv(); // the offline kiln-test base images the projects build on
});

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  expect(await kilnContainers(docker, RUN)).toEqual([]);
  for (const t of tags) await removeImage(docker, t);
});

describe("a Cog-style Python project", () => {
  let dir: string;
  beforeAll(() => {
    dir = project("python", "kiln-test/python");
  });

  it("trains in its image and writes the weights to ./weights", async () => {
    const r = await run(
      ["train", ...QUIET, "-i", "data=@words.txt", "-i", "prefix=docker", "-i", "epochs=2"],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("epoch 2/2: 5 words");
    expect(JSON.parse(readFileSync(join(dir, "weights"), "utf8"))).toEqual({
      prefix: "docker",
      vocab: ["becomes", "clay", "fires", "kiln", "pots"],
    });
  });

  it("train -> build --weights -> predict: the new version predicts with the trained weights", async () => {
    const v1 = await buildWith("weights", "python-v1", dir);
    expect(await predictWith(tag("python-v1"), "kiln clay pots x")).toBe("docker: 3/4 known\n");
    // The version kiln train built has no weights: COG_WEIGHTS is unset there.
    expect(await predictWith(tag("python-base"), "kiln clay pots x")).toBe("untrained: 0/4 known\n");
    expect(await imageEnv(tag("python-v1"))).toContain("COG_WEIGHTS=/kiln/weights/weights");

    // The same weights give the same image id; other weights another version.
    expect(await buildWith("weights", "python-v1-again", dir)).toBe(v1);
    const retrain = await run(
      ["train", ...QUIET, "-i", "data=@cog.yaml", "-i", "prefix=retrained", "-o", "w2"],
      dir,
    );
    expect(retrain.code, retrain.stderr).toBe(0);
    const v2 = await buildWith("w2", "python-v2", dir);
    expect(v2).not.toBe(v1);
    expect(await predictWith(tag("python-v2"), "kiln clay")).toBe("retrained: 0/2 known\n");
  });

  it("kiln push --weights pushes the trained version (a plain push would rebuild without them)", async () => {
    await requireRegistry(REGISTRY);
    const repo = `kiln-train-cli-py-${process.pid}`;
    const dest = `${REGISTRY}/${repo}:tuned`;
    tags.add(dest);
    const r = await run(["push", ...QUIET, "--weights", "weights", "--json", dest], dir);
    expect(r.code, r.stderr).toBe(0);
    const pushed = JSON.parse(r.stdout) as { digest: string };
    expect((await new RegistryClient(REGISTRY).image(repo, "tuned")).digest).toBe(pushed.digest);
    expect(await imageEnv(dest)).toContain("COG_WEIGHTS=/kiln/weights/weights");
  });

  it("trains an existing image given by name", async () => {
    const r = await run(["train", tag("python-base"), "-i", "data=@words.txt", "-o", "from-image.json"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "from-image.json"), "utf8"))).toMatchObject({
      prefix: "trained",
    });
  });

  it("runs Cog's class form of train: (setup() once, then train()) in the rebuilt image", async () => {
    const yaml = readFileSync(join(dir, "cog.yaml"), "utf8").replace(
      /^train: .*$/m,
      'train: "train_class.py:Trainer"',
    );
    writeFileSync(join(dir, "cog.yaml"), yaml);
    const r = await run(["train", ...QUIET, "-i", "data=@words.txt", "-o", "class.json"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("class trainer: 5 words");
    expect(JSON.parse(readFileSync(join(dir, "class.json"), "utf8"))).toMatchObject({
      prefix: "trained (class)",
    });
  });
});

describe("a TypeScript project (defineTrainer)", () => {
  let dir: string;
  beforeAll(() => {
    dir = project("ts", "kiln-test/node");
  });

  it("trains with Docker, and the version built with the weights predicts with them", async () => {
    const r = await run(["train", ...QUIET, "-i", "data=@words.txt", "-i", "prefix=ts-docker"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ weights: "weights", words: 5 });
    expect(r.stderr).toContain("training on 5 words");
    await buildWith("weights", "ts-v1", dir);
    expect(await predictWith(tag("ts-v1"), "pots fires kiln")).toBe("ts-docker: 3/3 known\n");
  });

  it("Ctrl-C cancels the training in the container, exits 130 and leaves no container", async () => {
    const child = await spawnKiln(["train", ...QUIET, "-i", "data=@words.txt", "-i", "hold=true"], {
      cwd: dir,
      env: LABELS,
    });
    const done = collect(child);
    await new Promise<void>((resolve) => {
      let seen = "";
      child.stderr?.on("data", (d: Buffer) => {
        seen += d.toString();
        if (seen.includes("holding until canceled")) resolve();
      });
    });
    expect(await kilnContainers(docker, RUN)).toHaveLength(1);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("Interrupted: the training was canceled.");
    expect(await kilnContainers(docker, RUN)).toEqual([]);
  });
});

describe("an image without a trainer", () => {
  it("is refused before it starts, with a hint (usage, 2)", async () => {
    const image = tag("no-trainer");
    tags.add(image);
    await buildFakeModelImage(image, {
      openapi: "3.0.2",
      components: { schemas: { Input: { type: "object", properties: {} }, Output: { type: "string" } } },
    });
    const r = await run(["train", image, "-i", "data=x"], tmpdir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${image} has no trainer: its schema lists no TrainingInput`);
    expect(r.stderr).toContain("hint: Train from a project whose cog.yaml has `train:`");
  });
});
