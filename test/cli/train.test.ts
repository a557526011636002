/**
 * `kiln train --no-docker` through the real CLI entry (in-process): Cog-style Python trainers (a
 * function returning TrainingOutput, a class, a bare cog.Path) and a TypeScript defineTrainer, the
 * weights written to ./weights or -o, --json, Ctrl-C (130, the training canceled), and every error a
 * user can make. The Docker half is test/integration/train.test.ts.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runKiln, type CliRun } from "../helpers/cli.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/train-cli");
const DEAD_ENGINE = `unix://${join(tmpdir(), `kiln-train-no-docker-${process.pid}.sock`)}`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh copy of a fixture project; `train` replaces its cog.yaml `train:` entry. */
function project(fixture: "python" | "ts", train?: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), `kiln-train-${fixture}-`));
  dirs.push(dir);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  if (train !== undefined) {
    const yaml = readFileSync(join(dir, "cog.yaml"), "utf8").replace(
      /^train: .*$/m,
      train ? `train: "${train}"` : "",
    );
    writeFileSync(join(dir, "cog.yaml"), yaml);
  }
  return dir;
}

/** In-process, as `kiln` would run; DOCKER_HOST points nowhere so nothing reaches a real engine. */
async function kiln(args: string[], cwd: string, opts: Parameters<typeof runKiln>[2] = {}): Promise<CliRun> {
  const saved = process.env["DOCKER_HOST"];
  process.env["DOCKER_HOST"] = DEAD_ENGINE;
  try {
    return await runKiln(args, cwd, opts);
  } finally {
    if (saved === undefined) delete process.env["DOCKER_HOST"];
    else process.env["DOCKER_HOST"] = saved;
  }
}

const model = (file: string): { prefix: string; vocab: string[] } =>
  JSON.parse(readFileSync(file, "utf8")) as { prefix: string; vocab: string[] };
const VOCAB = ["becomes", "clay", "fires", "kiln", "pots"];

describe("kiln train --no-docker", () => {
  it("runs a Cog function trainer (TrainingOutput) and writes the weights to ./weights, as cog train does", async () => {
    const dir = project("python");
    const r = await kiln(
      ["train", "--no-docker", "-i", "data=@words.txt", "-i", "epochs=2", "-i", "prefix=fn"],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(model(join(dir, "weights"))).toEqual({ prefix: "fn", vocab: VOCAB });
    expect(r.stderr).toContain("epoch 2/2: 5 words"); // the training's logs
    expect(r.stderr).toContain("Written weights to weights");
    expect(JSON.parse(r.stdout)).toEqual({ weights: "weights" });
  });

  it("runs a Cog class trainer (setup() once, then train())", async () => {
    const dir = project("python", "train_class.py:Trainer");
    const r = await kiln(["train", "--no-docker", "-i", "data=@words.txt", "-o", "models/v1.json"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(model(join(dir, "models/v1.json"))).toEqual({ prefix: "trained (class)", vocab: VOCAB });
    expect(r.stderr).toContain("class trainer: 5 words");
  });

  it("writes a bare cog.Path output as the weights, into a directory given with a trailing slash", async () => {
    const dir = project("python", "train_path.py:train");
    const r = await kiln(["train", "--no-docker", "-i", "data=@words.txt", "-o", "out/"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(join(dir, "out/weights.txt"), "utf8")).toBe("KILN FIRES CLAY\nCLAY BECOMES POTS\n");
  });

  it("runs a TypeScript defineTrainer; --json prints the training with the weights' path", async () => {
    const dir = project("ts");
    const r = await kiln(
      ["train", "--no-docker", "--json", '{"data": "@words.txt", "prefix": "ts"}', "-o", "w.json"],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const training = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(training).toMatchObject({ status: "succeeded", output: { weights: "w.json", words: 5 } });
    expect(training["logs"]).toContain("training on 5 words");
    expect(model(join(dir, "w.json"))).toEqual({ prefix: "ts", vocab: VOCAB });
  });

  it("the weights feed the predictor: COG_WEIGHTS reaches setup()", async () => {
    const dir = project("ts");
    expect(
      (await kiln(["train", "--no-docker", "-i", "data=@words.txt", "-i", "prefix=fed"], dir)).code,
    ).toBe(0);
    const before = await kiln(["predict", "--no-docker", "-i", "text=kiln pots x"], dir);
    expect(before.stdout).toBe("untrained: 0/3 known\n");
    const after = await kiln(
      ["predict", "--no-docker", "-e", `COG_WEIGHTS=${join(dir, "weights")}`, "-i", "text=kiln pots x"],
      dir,
    );
    expect(after.stdout, after.stderr).toBe("fed: 2/3 known\n");
  });

  it("kiln dockerfile --weights shows the trained weights' layer and COG_WEIGHTS, as build would use them", async () => {
    const dir = project("python");
    writeFileSync(join(dir, "weights"), "0123456789");
    const r = await kiln(["dockerfile", "--weights", "weights", "--context"], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "# trained weights (kiln build --weights): /kiln/weights/weights (10 B), named by COG_WEIGHTS\nCOPY kiln/trained/ /",
    );
    expect(r.stdout).toContain('COG_WEIGHTS="/kiln/weights/weights"');
    expect(r.stdout).toMatch(/ 10 B {2}kiln\/trained\/kiln\/weights\/weights\n/);
    expect(r.stdout).not.toMatch(/ src\/weights\n/); // not a second time with the code
  });

  it("Ctrl-C cancels the running training (the trainer sees it) and exits 130", async () => {
    const dir = project("ts");
    const r = await kiln(["train", "--no-docker", "-i", "data=@words.txt", "-i", "hold=true"], dir, {
      interruptWhen: /holding until canceled/,
    });
    expect(r.code).toBe(EXIT_CODES.interrupted);
    expect(r.stderr).toContain("Interrupted: the training was canceled.");
    expect(readFileSync(join(dir, "canceled.txt"), "utf8")).toMatch(/^kiln[0-9a-f]+$/);
    expect(existsSync(join(dir, "weights"))).toBe(false);
  });
});

type Failure = keyof typeof EXIT_CODES;
/** [what, args, project, exit class, every line stderr must hold] */
const ERRORS: [string, string[], () => string, Failure, RegExp[]][] = [
  [
    "no train: in cog.yaml",
    ["train", "--no-docker", "-i", "data=@words.txt"],
    () => project("python", null),
    "manifest",
    [/cog\.yaml:\d+:\d+ train: no `train:` entry/, /hint: add e\.g\. train: "train\.py:train"/],
  ],
  [
    "bad inputs, all at once",
    ["train", "--no-docker", "-i", "epochs=0", "-i", "bogus=1"],
    () => project("python"),
    "usage",
    [
      /3 problems with the inputs/,
      /bogus: unknown input; this model's inputs are: data, prefix, epochs/,
      /data: required input is missing/,
      /epochs: 0 is too small: expected an integer from 1 to 10/,
      /-i epochs=\.\.\. an integer from 1 to 10/,
    ],
  ],
  [
    "-i without =",
    ["train", "--no-docker", "-i", "data"],
    () => project("python"),
    "usage",
    [/is not name=value/],
  ],
  [
    "a missing @file",
    ["train", "--no-docker", "-i", "data=@nope.txt"],
    () => project("python"),
    "usage",
    [/file not found: @nope\.txt/],
  ],
  [
    "a bad --setup-timeout",
    ["train", "--setup-timeout", "soon"],
    () => project("python"),
    "usage",
    [/--setup-timeout must be/],
  ],
  [
    "IMAGE with --no-docker",
    ["train", "--no-docker", "some/image"],
    () => project("python"),
    "usage",
    [/--no-docker runs the project/],
  ],
  [
    "IMAGE without an engine",
    ["train", "kiln-test/none:1"],
    () => project("python"),
    "dockerUnavailable",
    [/no Docker engine is reachable/],
  ],
  [
    "kiln build --weights of a missing file",
    ["build", "--weights", "weights"],
    () => project("python"),
    "usage",
    [/--weights .*weights does not exist/, /hint: .*kiln train/],
  ],
  [
    "kiln push --weights without a build",
    ["push", "--no-build", "--weights", "weights", "127.0.0.1:1/kiln-test/x:1"],
    () => project("python"),
    "usage",
    [/--weights builds a new version, but this push does not build/],
  ],
  [
    "a trainer that fails",
    ["train", "--no-docker", "-i", "data=@bad.bin"],
    () => {
      const dir = project("python");
      writeFileSync(join(dir, "bad.bin"), Buffer.from([0xff, 0xfe, 0x00, 0x80]));
      return dir;
    },
    "predictionFailed",
    [/the training failed: .*codec can't decode/],
  ],
];

describe("kiln train errors", () => {
  it.each(ERRORS)("%s", async (_what, args, make, failure, lines) => {
    const r = await kiln(args, make());
    for (const line of lines) expect(r.stderr).toMatch(line);
    expect(r.code).toBe(EXIT_CODES[failure]);
    expect(r.stderr).not.toMatch(/Unexpected error|a bug in kiln/);
  });
});
