/**
 * `kiln exec` with a real kiln image: the command runs in the model's environment with the project
 * mounted at /src, gets -e variables and the command's own flags, its exit status becomes kiln's,
 * and no container is left behind.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../src/docker/engine.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engine, kilnContainers, removeImage } from "./predict-helpers.js";
import { kiln } from "./predict-cli.js";

const IMAGE = `kiln-test/exec-e2e:${process.pid}`;
const FLAGS = ["--node-image", "kiln-test/node", "--progress", "quiet"];
let docker: Engine;
let dir: string;

beforeAll(async () => {
  docker = await engine();
  dir = await mkdtemp(join(tmpdir(), "kiln-exec-"));
  await writeFile(
    join(dir, "cog.yaml"),
    `build:\n  python_version: "3.11"\n  base_image: kiln-test/python\npredict: "predict.py:Predictor"\nimage: ${IMAGE}\n`,
  );
  await writeFile(
    join(dir, "predict.py"),
    "from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def predict(self, x: int = 1) -> int:\n        return x\n",
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  expect(await kilnContainers(docker)).toEqual([]);
  await removeImage(docker, IMAGE);
});

describe("kiln exec", () => {
  it("runs the command in the image with the project at /src and passes its flags", async () => {
    await writeFile(join(dir, "note.txt"), "from the host\n");
    const r = await kiln(
      [
        "exec",
        ...FLAGS,
        "-e",
        "GREETING=hi",
        "--",
        "python3",
        "-c",
        "import os,sys; print(os.getcwd(), os.environ['GREETING'], open('note.txt').read().strip(), sys.version_info[:2])",
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("/src hi from the host (3, 11)");
  });

  it("writes through the mount and returns the command's exit status", async () => {
    const r = await kiln(["exec", ...FLAGS, "sh", "-c", "echo made-inside > /src/inside.txt; exit 3"], {
      cwd: dir,
    });
    expect(r.code).toBe(3);
    expect(await readFile(join(dir, "inside.txt"), "utf8")).toBe("made-inside\n");
    expect(await kilnContainers(docker)).toEqual([]);
  });
});
