/**
 * kiln predict end to end with real kiln images: the bundled TypeScript and Python examples, and a small
 * Python project for file round trips, lists, failures, SETUP_FAILED and Ctrl-C. Built offline on the
 * kiln-test base images (base_image in cog.yaml, --node-image for the server's node).
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Engine } from "../../src/docker/engine.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engine, kilnContainers, removeImage } from "./predict-helpers.js";
import { collect, kiln, spawnKiln } from "./predict-cli.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const NODE = ["--node-image", "kiln-test/node", "--progress", "quiet"];
const images = {
  ts: `kiln-test/predict-e2e-ts:${process.pid}`,
  ppm: `kiln-test/predict-e2e-ppm:${process.pid}`,
  echo: `kiln-test/predict-e2e-echo:${process.pid}`,
};
let docker: Engine;
const dirs: string[] = [];

async function project(
  from: string | null,
  cogYaml: string,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-predict-e2e-"));
  dirs.push(dir);
  if (from) await cp(join(EXAMPLES, from), dir, { recursive: true });
  await writeFile(join(dir, "cog.yaml"), cogYaml);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

const ECHO_PY = `
import os
import time
from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        if os.environ.get("KILN_TEST_FAIL_SETUP"):
            raise RuntimeError("setup exploded on purpose")

    def predict(
        self,
        f: Path = Input(description="any file, returned unchanged"),
        words: list[str] = Input(default=[]),
        mode: str = Input(choices=["ok", "fail", "slow"], default="ok"),
        n: int = Input(ge=1, le=5, default=1),
    ) -> Path:
        print("words=" + "|".join(words))
        if mode == "fail":
            raise ValueError("predictor failed on purpose")
        if mode == "slow":
            for i in range(600):
                print(f"tick {i}", flush=True)
                time.sleep(0.1)
        out = Path("/tmp/echo-" + os.path.basename(str(f)))
        out.write_bytes(f.read_bytes())
        return out
`;

let ts: string;
let ppm: string;
let echo: string;

beforeAll(async () => {
  docker = await engine();
  ts = await project(
    "hello-ts",
    `build:\n  node_version: 20\n  base_image: kiln-test/node\npredict: "predict.ts:predictor"\nimage: ${images.ts}\n`,
  );
  ppm = await project(
    "python-ppm-filter",
    `build:\n  python_version: "3.11"\n  base_image: kiln-test/python\npredict: "predict.py:Predictor"\nimage: ${images.ppm}\n`,
  );
  echo = await project(
    null,
    `build:\n  python_version: "3.11"\n  base_image: kiln-test/python\npredict: "predict.py:Predictor"\nimage: ${images.echo}\n`,
    {
      "predict.py": ECHO_PY,
    },
  );
});

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  expect(await kilnContainers(docker)).toEqual([]);
  for (const image of Object.values(images)) await removeImage(docker, image);
});

describe("TypeScript example (hello-ts)", () => {
  it("builds, predicts and prints the string output", async () => {
    const r = await kiln(["predict", ...NODE, "-i", "name=Ada", "-i", "times=2", "-i", "style=shout"], {
      cwd: ts,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("HELLO, ADA! HELLO, ADA!\n");
    expect(r.stderr).toContain("greeting Ada 2x"); // the prediction's log
  });

  it("checks inputs against the built image's schema before starting it", async () => {
    const r = await kiln(["predict", ...NODE, "-i", "times=9", "-i", "style=loud", "-i", "nam=x"], {
      cwd: ts,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("times: 9 is too large: expected an integer from 1 to 5");
    expect(r.stderr).toContain('style: got "loud", expected one of: "plain", "shout", "whisper"');
    expect(r.stderr).toContain('nam: unknown input (did you mean "name"?)');
  });

  it("runs the image built earlier by name, without a project, with --json", async () => {
    const r = await kiln(["predict", images.ts, "--json", '{"name": "Bo"}'], { cwd: tmpdir() });
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(p).toMatchObject({
      status: "succeeded",
      output: "Hello, Bo!",
      input: { name: "Bo", times: 1, style: "plain" },
    });
    expect(p["logs"]).toContain("greeting Bo 1x");
  });
});

describe("Python example (python-ppm-filter)", () => {
  it("sends a file, streams file outputs to output.<n>.<ext>", async () => {
    const r = await kiln(
      ["predict", ...NODE, "-i", "image=@sample.ppm", "-i", "filter=invert", "-i", "passes=2"],
      { cwd: ppm },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("pass 2/2 done");
    const outputs = (await readdir(ppm)).filter((f) => f.startsWith("output.")).sort();
    expect(outputs).toHaveLength(2);
    const first = await readFile(join(ppm, outputs[0] ?? ""));
    expect(first.subarray(0, 2).toString()).toMatch(/^P[36]/);
  });
});

describe("Python project: files, lists, failures", () => {
  it("round-trips a file byte for byte and builds lists from repeated -i", async () => {
    const bytes = randomBytes(300_000);
    await writeFile(join(echo, "blob.bin"), bytes);
    const r = await kiln(
      ["predict", ...NODE, "-i", "f=@blob.bin", "-i", "words=a", "-i", "words=b c", "-o", "back.bin"],
      { cwd: echo },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("words=a|b c");
    expect((await readFile(join(echo, "back.bin"))).equals(bytes)).toBe(true);
  });

  it("exits 1 and shows the predictor's error", async () => {
    const r = await kiln(["predict", ...NODE, "-i", "f=@cog.yaml", "-i", "mode=fail"], { cwd: echo });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("predictor failed on purpose");
  });

  it("reports SETUP_FAILED with the setup logs", async () => {
    const r = await kiln(["predict", ...NODE, "-i", "f=@cog.yaml", "-e", "KILN_TEST_FAIL_SETUP=1"], {
      cwd: echo,
    });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("setup() failed");
    expect(r.stderr).toContain("setup exploded on purpose");
  });

  it("Ctrl-C cancels a running prediction and leaves no container", async () => {
    const child = await spawnKiln(["predict", ...NODE, "-i", "f=@cog.yaml", "-i", "mode=slow"], {
      cwd: echo,
    });
    const done = collect(child);
    await new Promise<void>((resolve) => {
      let seen = "";
      child.stderr?.on("data", (d: Buffer) => {
        seen += d.toString();
        if (seen.includes("tick 2")) resolve();
      });
    });
    expect(await kilnContainers(docker)).toHaveLength(1);
    // One request: kiln's server runs without the image's heap flag, which costs node its code cache.
    const [mine] = await docker.listContainers({ label: [`kiln.pid=${child.pid}`] });
    const cmd = (await docker.inspectContainer(mine?.Id ?? "none")).Config.Cmd ?? [];
    expect(cmd).toContain("/kiln/server.mjs");
    expect(cmd.filter((a) => a.startsWith("--max-semi-space-size"))).toEqual([]);
    child.kill("SIGINT");
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("canceled");
    expect(await kilnContainers(docker)).toEqual([]);
  });
});
