/**
 * A few compatibility-corpus cases through real kiln images (the rest run with --no-docker): the case's
 * project is built on the offline kiln-test/python base and predicted with `kiln predict`, as a Cog user
 * would run `cog predict`.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../src/docker/engine.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CASES_DIR } from "../compat/corpus.js";
import { engine, kilnContainers, removeImage } from "./predict-helpers.js";
import { kiln } from "./predict-cli.js";
import { execDocker } from "../helpers/docker-cli.js";
import { freePort } from "../helpers/registry.js";

const NODE = ["--node-image", "kiln-test/node", "--progress", "quiet"];
const images: string[] = [];
const dirs: string[] = [];
let docker: Engine;

/** The corpus case in a temp dir, its cog.yaml pointed at the offline base image and a test tag. */
async function caseProject(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `kiln-compat-image-${name}-`));
  dirs.push(dir);
  await cp(join(CASES_DIR, name), dir, { recursive: true });
  const image = `kiln-test/compat-${name}:${process.pid}`;
  images.push(image);
  const yaml = await readFile(join(dir, "cog.yaml"), "utf8");
  await writeFile(
    join(dir, "cog.yaml"),
    yaml.replace("build:\n", "build:\n  base_image: kiln-test/python\n") + `image: ${image}\n`,
  );
  return dir;
}

beforeAll(async () => {
  docker = await engine();
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  expect(await kilnContainers(docker)).toEqual([]);
  for (const image of images) await removeImage(docker, image);
});

describe("compat corpus through images", () => {
  it("sdk-union: union inputs resolve in the image as with --no-docker", async () => {
    const dir = await caseProject("sdk-union");
    const r = await kiln(["predict", ...NODE, "-i", "value=1.5", "-i", "sizes=[3, 4]"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("float:1.5 list:[3, 4]\n");
  });

  it("sdk-metrics: coglet-style metrics nest in the image's prediction JSON", async () => {
    const dir = await caseProject("sdk-metrics");
    const r = await kiln(["predict", ...NODE, "--json", "{}"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as { metrics: Record<string, unknown> };
    expect(p.metrics).toMatchObject({ timing: { preprocess: 0.5, inference: 1.25 }, tokens: 3 });
  });
});

describe("python -m cog.server.http inside a kiln image", () => {
  it("starts kiln's server with Cog's flags (what RunPod's cog-worker and raw `docker run` use)", async () => {
    const image = images[0];
    expect(image, "the sdk-union image is built by the test above").toBeDefined();
    const port = await freePort();
    const { stdout } = await execDocker([
      "run",
      "-d",
      "--network",
      "host",
      "--label",
      "kiln.test=1",
      image!,
      // The offline test base is Debian's python3 without the `python` alias Cog's bases have.
      "python3",
      "-m",
      "cog.server.http",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    const id = stdout.trim();
    try {
      const url = `http://127.0.0.1:${port}`;
      let status = "";
      for (let i = 0; i < 600 && status !== "READY"; i++) {
        status = await fetch(`${url}/health-check`)
          .then((r) => r.json() as Promise<{ status: string }>)
          .then((h) => h.status)
          .catch(() => "");
        if (status !== "READY") await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe("READY");
      const res = await fetch(`${url}/predictions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: { value: 1.5, sizes: [3, 4] } }),
      });
      expect(((await res.json()) as { output: unknown }).output).toBe("float:1.5 list:[3, 4]");
    } finally {
      await execDocker(["rm", "-f", id]);
    }
  });
});
