/**
 * Every command that loads cog.yaml reports its warnings one way: on stderr in the problem format in
 * text mode, inside the one JSON document (`warnings: [...]`) in a --json run, never on stdout as
 * text and never dropped. Runs the real CLI entry without a Docker engine (DOCKER_HOST points at a
 * socket that does not exist): build, push and exec stop at "no engine" (4) after loading the
 * manifest, and train at the missing `train:`; predict, serve, playground and client run the project
 * on this machine instead.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runKiln, type RunKilnOptions } from "../helpers/cli.js";

const DEAD_ENGINE = `unix://${join(tmpdir(), `kiln-no-such-docker-${process.pid}.sock`)}`;

const COG_YAML = [
  "build:",
  '  python_version: "3.11"',
  "  fast: true",
  'predict: "predict.py:Predictor"',
  "image: 127.0.0.1:1/kiln-test/warnings",
  "flavour: vanilla",
  "",
].join("\n");
const PY_OK =
  "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, x: str = 'a') -> str:\n        return x\n";

/** The two warnings of COG_YAML, as a --json document carries them. */
const WARNINGS = [
  {
    code: "cog_setting_ignored",
    message: "fast is a Cog setting that kiln ignores",
    file: "cog.yaml",
    line: 3,
    column: 3,
    path: "build.fast",
    hint: "remove it, or keep it for Cog",
  },
  {
    code: "unknown_key",
    message: expect.stringContaining("kiln ignores it"),
    file: "cog.yaml",
    line: 6,
    column: 1,
    path: "flavour",
    hint: expect.stringContaining("known keys"),
  },
];
/** The same warnings in text mode (stderr). */
const TEXT = [
  /^warning: cog\.yaml:3:3 build\.fast: fast is a Cog setting that kiln ignores\n {4}hint: remove it, or keep it for Cog$/m,
  /^warning: cog\.yaml:6:1 flavour: .*kiln ignores it\n {4}hint: known keys/m,
];

let dir = "";
const savedEnv = { ...process.env };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kiln-warnings-"));
  writeFileSync(join(dir, "cog.yaml"), COG_YAML);
  writeFileSync(join(dir, "predict.py"), PY_OK);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.env = { ...savedEnv };
});

async function kiln(args: string[], opts: RunKilnOptions = {}) {
  process.env["DOCKER_HOST"] = DEAD_ENGINE;
  return runKiln(args, dir, opts);
}

/** serve and playground run until Ctrl-C: given once the model is up (their normal end, 0). */
const UP = /Model ready: http/;

type Exit = keyof typeof EXIT_CODES;

describe("text mode: each warning once, on stderr, in the problem format", () => {
  const rows: [command: string, args: string[], exit: Exit, opts?: RunKilnOptions][] = [
    ["dockerfile", ["dockerfile"], "ok"],
    ["build", ["build"], "dockerUnavailable"],
    ["push", ["push"], "dockerUnavailable"],
    ["exec", ["exec", "true"], "dockerUnavailable"],
    ["predict", ["predict"], "ok"],
    ["serve", ["serve", "-p", "0"], "ok", { interruptWhen: UP }],
    ["playground", ["playground", "-p", "0", "--no-open"], "ok", { interruptWhen: UP }],
    ["client", ["client", "--lang", "ts"], "ok"],
    // cog.yaml has no `train:`: found after loading, so its warnings are still reported
    ["train", ["train"], "manifest"],
  ];
  it.each(rows)("kiln %s", async (_command, args, exit, opts) => {
    const r = await kiln(args, opts);
    expect(r.code).toBe(EXIT_CODES[exit]);
    for (const line of TEXT) {
      expect(r.stderr).toMatch(line);
      expect(r.stderr.split("warning: ").length).toBe(TEXT.length + 1);
    }
    expect(r.stdout).not.toMatch(/cog\.yaml:\d+:\d+|kiln ignores/);
  });
});

describe("--json: the warnings are in the one JSON document, not on stderr", () => {
  const rows: [command: string, args: string[], exit: Exit, errorCode?: string][] = [
    ["build", ["build", "--json"], "dockerUnavailable", "docker_unavailable"],
    ["push", ["push", "--json"], "dockerUnavailable", "docker_unavailable"],
    ["predict", ["predict", "--json", '{"x": "hi"}'], "ok"],
    ["predict -o FILE", ["predict", "--json", '{"x": "hi"}', "-o", "prediction.json"], "ok"],
    ["train", ["train", "--json", "{}"], "manifest", "manifest_invalid"],
  ];
  it.each(rows)("kiln %s", async (_command, args, exit, errorCode) => {
    const r = await kiln(args);
    expect(r.code).toBe(EXIT_CODES[exit]);
    const written = args.includes("-o") ? readFileSync(join(dir, "prediction.json"), "utf8") : r.stdout;
    const doc = JSON.parse(written) as { warnings?: unknown; output?: unknown; error?: { code: string } };
    expect(doc.warnings).toEqual(WARNINGS);
    if (exit === "ok") expect(doc.output).toBe("hi");
    else expect(doc.error?.code).toBe(errorCode);
    expect(r.stderr).not.toMatch(/warning:|kiln ignores/);
  });

  it("a manifest without warnings gives an empty list; a run that loads none has no `warnings` key", async () => {
    writeFileSync(
      join(dir, "clean.yaml"),
      'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
    );
    const clean = await kiln(["-f", "clean.yaml", "build", "--json"]);
    expect((JSON.parse(clean.stdout) as { warnings: unknown[] }).warnings).toEqual([]);
    const image = await kiln(["push", "--json", "--no-build", "127.0.0.1:1/kiln-test/x:1"]);
    expect(JSON.parse(image.stdout)).not.toHaveProperty("warnings");
  });
});
