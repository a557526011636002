/**
 * The README's exit-code table, command by command: each failure class a command can meet, through
 * the real CLI entry (src/cli/main.ts), without a Docker engine (DOCKER_HOST points at a socket that
 * does not exist). Rows that need a running engine or registry live in test/integration/exit-codes.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runLogin } from "../../src/publish/login.js";
import { classify, main } from "../../src/cli/main.js";
import { EXIT_CODES, InterruptedError, RegistryError } from "../../src/errors.js";
import { testContext } from "../helpers/cli.js";

const DEAD_ENGINE = `unix://${join(tmpdir(), `kiln-no-such-docker-${process.pid}.sock`)}`;
/** Nothing listens on port 1 of the loopback: connections are refused at once. */
const DEAD_REGISTRY = "127.0.0.1:1";

const PY_OK =
  "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, x: str = 'a') -> str:\n        return x\n";
const PY_FAILS =
  "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, x: str = 'a') -> str:\n        raise ValueError('bad input')\n";
const PY_SETUP_FAILS =
  "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def setup(self):\n        raise RuntimeError('no weights')\n\n    def predict(self, x: str = 'a') -> str:\n        return x\n";
const COG_YAML = `build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\nimage: ${DEAD_REGISTRY}/kiln-test/exit-codes\n`;

const DIGEST = `sha256:${"0".repeat(64)}`;
/** A saved OpenAPI document (a `kiln client` source that needs no server, engine or registry). */
const SCHEMA_JSON = JSON.stringify({
  openapi: "3.0.2",
  info: { title: "Cog", version: "0.0.0-test" },
  paths: {},
  components: {
    schemas: {
      Input: { type: "object", properties: { x: { type: "string", "x-order": 0 } } },
      Output: { type: "string" },
    },
  },
});

const dirs: Record<string, string> = {};
function project(name: string, files: Record<string, string>): void {
  const dir = mkdtempSync(join(tmpdir(), `kiln-exit-${name}-`));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  dirs[name] = dir;
}

const savedEnv = { ...process.env };
beforeAll(() => {
  project("valid", { "cog.yaml": COG_YAML, "predict.py": PY_OK });
  project("broken", { "cog.yaml": "build:\n  python_version: 2\npredict: nope\n", "predict.py": PY_OK });
  project("nopredictor", { "cog.yaml": 'build:\n  python_version: "3.11"\n', "predict.py": PY_OK });
  project("fails", { "cog.yaml": COG_YAML, "predict.py": PY_FAILS });
  project("setupfails", { "cog.yaml": COG_YAML, "predict.py": PY_SETUP_FAILS });
  project("empty", {});
  project("schema", {
    "schema.json": SCHEMA_JSON,
    "old.json": SCHEMA_JSON.replace('"x"', '"y"'),
    notadir: "a file",
    "foreign.ts": "// not written by kiln client\n",
  });
});
afterAll(() => {
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  process.env = { ...savedEnv };
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function kiln(args: string[], dir: string, signal?: AbortSignal): Promise<Run> {
  process.env["DOCKER_HOST"] = DEAD_ENGINE;
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => (stdout += c.toString()));
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await main(["node", "kiln", ...args], {
    stdout: out,
    stderr: err,
    cwd: dir,
    ...(signal ? { signal } : {}),
  });
  return { code, stdout, stderr };
}

type Failure = keyof typeof EXIT_CODES;
/** [command, failure class, args, project, what stderr must say, extra environment] */
type Row = [string, Failure, string[], string, RegExp, Record<string, string>?];

const ROWS: Row[] = [
  // usage (2): bad flags and arguments, reported before anything starts
  ["init", "usage", ["init", "--lang", "cobol"], "empty", /--lang.*cobol/],
  ["build", "usage", ["build", "--progress", "loud"], "valid", /--progress.*loud/],
  ["build", "usage", ["build", "--secret", "nonsense"], "valid", /--secret nonsense: expected/],
  [
    "build",
    "usage",
    ["build"],
    "valid",
    /KILN_DOCKER_CLI points at/,
    { KILN_DOCKER_CLI: "/nonexistent/docker" },
  ],
  ["dockerfile", "usage", ["dockerfile", "--bogus"], "valid", /unknown option '--bogus'/],
  ["predict", "usage", ["predict", "prompt=hi"], "valid", /hint: kiln predict -i prompt=hi/],
  ["predict", "usage", ["predict", "--progress", "loud"], "valid", /--progress.*loud/],
  ["predict", "usage", ["predict", "-i", "nonsense"], "valid", /is not name=value/],
  ["predict", "usage", ["predict", "--setup-timeout", "soon"], "valid", /--setup-timeout must be/],
  ["train", "usage", ["train", "-i", "nonsense"], "valid", /is not name=value/],
  ["serve", "usage", ["serve", "-p", "99999"], "valid", /-p must be a port number/],
  ["serve", "usage", ["serve", "--progress", "loud"], "valid", /--progress.*loud/],
  ["exec", "usage", ["exec"], "valid", /missing required argument/],
  ["exec", "usage", ["exec", "--progress", "loud", "true"], "valid", /--progress.*loud/],
  ["exec", "usage", ["exec", "-e", "NOVALUE", "true"], "valid", /-e "NOVALUE" is not NAME=value/],
  ["push", "usage", ["push", "--progress", "loud"], "valid", /--progress.*loud/],
  ["push", "usage", ["push"], "empty", /kiln push needs an image name/],
  ["init", "usage", ["init", "notadir"], "schema", /notadir exists and is not a directory/],
  ["playground", "usage", ["playground", "--webhook-port", "x"], "valid", /--webhook-port must be a port/],
  ["playground", "usage", ["playground", "-p", "99999"], "valid", /-p must be a port number/],
  ["login", "usage", ["login", DEAD_REGISTRY], "empty", /kiln login needs --username/],
  ["login", "usage", ["login", "-u", "u", DEAD_REGISTRY], "empty", /--password-stdin/],
  ["inspect", "usage", ["inspect"], "empty", /missing required argument/],
  ["inspect", "usage", ["inspect", "--ca-cert", "/nonexistent.pem", "x/y:1"], "empty", /Cannot read the CA/],
  ["gateway", "usage", ["gateway"], "empty", /required option '--redis <url>'/],
  [
    "gateway",
    "usage",
    ["gateway", "--redis", "redis://127.0.0.1:1", "--queue-size", "0"],
    "empty",
    /--queue-size must be a positive integer/,
  ],
  ["gateway", "usage", ["gateway", "--redis", "http://127.0.0.1:1"], "empty", /redis/i],
  ["client", "usage", ["client", "schema.json", "--lang", "cobol"], "schema", /--lang must be ts or python/],
  [
    "client",
    "usage",
    ["client", "schema.json", "--lang", "ts", "--check"],
    "schema",
    /--check needs -o FILE/,
  ],
  ["client", "usage", ["client", "missing.json", "--lang", "ts"], "schema", /cannot read missing\.json/],
  ["deploy", "usage", ["deploy", "nomad", `${DEAD_REGISTRY}/x@${DIGEST}`], "empty", /nomad/],
  ["deploy", "usage", ["deploy", "swarm", `${DEAD_REGISTRY}/x:1`], "empty", /is not pinned by digest/],
  [
    "deploy",
    "usage",
    ["deploy", "kubernetes", `${DEAD_REGISTRY}/x@${DIGEST}`, "--replicas", "0"],
    "empty",
    /--replicas must be a whole number/,
  ],
  // manifest (3): cog.yaml missing, invalid, or without the predictor a command runs
  ["build", "manifest", ["build"], "broken", /cog\.yaml has 2 problems/],
  ["build", "manifest", ["build"], "empty", /No cog\.yaml found/],
  ["dockerfile", "manifest", ["dockerfile"], "broken", /cog\.yaml has 2 problems/],
  ["predict", "manifest", ["predict"], "broken", /cog\.yaml has 2 problems/],
  [
    "predict",
    "manifest",
    ["predict", "--no-docker"],
    "nopredictor",
    /cog\.yaml:1:1 predict: no `predict:` entry/,
  ],
  ["train", "manifest", ["train", "--no-docker"], "valid", /train: no `train:` entry/],
  ["serve", "manifest", ["serve", "-p", "0"], "broken", /cog\.yaml has 2 problems/],
  ["serve", "manifest", ["serve", "-p", "0", "--no-docker"], "nopredictor", /no `predict:` entry/],
  ["exec", "manifest", ["exec", "true"], "broken", /cog\.yaml has 2 problems/],
  ["exec", "manifest", ["exec", "true"], "empty", /No cog\.yaml found/],
  ["push", "manifest", ["push"], "broken", /cog\.yaml has 2 problems/],
  ["playground", "manifest", ["playground", "-p", "0", "--no-open"], "broken", /cog\.yaml has 2 problems/],
  ["client", "manifest", ["client", "--lang", "ts", "--no-docker"], "broken", /cog\.yaml has 2 problems/],
  ["client", "manifest", ["client", "--lang", "ts", "--no-docker"], "nopredictor", /no `predict:` entry/],
  ["push", "manifest", ["-f", "missing.yaml", "push", "x/y:1"], "empty", /missing\.yaml does not exist/],
  // Docker engine unavailable (4), naming the engine
  [
    "build",
    "dockerUnavailable",
    ["build"],
    "valid",
    /Cannot reach the Docker engine at unix:\/\/.*kiln-no-such-docker/,
  ],
  ["predict", "dockerUnavailable", ["predict", "kiln-test/none:1"], "empty", /no Docker engine is reachable/],
  ["train", "dockerUnavailable", ["train", "kiln-test/none:1"], "empty", /no Docker engine is reachable/],
  [
    "serve",
    "dockerUnavailable",
    ["serve", "-p", "0", "kiln-test/none:1"],
    "empty",
    /no Docker engine is reachable/,
  ],
  ["exec", "dockerUnavailable", ["exec", "true"], "valid", /needs a Docker engine/],
  [
    "push",
    "dockerUnavailable",
    ["push", "--no-build", `${DEAD_REGISTRY}/kiln-test/x:1`],
    "empty",
    /Cannot reach the Docker engine at unix:\/\/.*kiln-no-such-docker/,
  ],
  [
    "inspect",
    "dockerUnavailable",
    ["inspect", "kiln-test/none:1"],
    "empty",
    /Cannot reach the Docker engine at unix:\/\/.*kiln-no-such-docker/,
  ],
  [
    "playground",
    "dockerUnavailable",
    ["playground", "-p", "0", "--no-open", "kiln-test/none:1"],
    "empty",
    /no Docker engine is reachable/,
  ],
  // registry (6)
  [
    "client",
    "registry",
    ["client", `${DEAD_REGISTRY}/kiln-test/x:1`, "--lang", "ts"],
    "empty",
    /127\.0\.0\.1:1/,
  ],
  [
    "deploy",
    "registry",
    ["deploy", "swarm", `${DEAD_REGISTRY}/kiln-test/x@${DIGEST}`],
    "empty",
    /127\.0\.0\.1:1/,
  ],
  [
    "inspect",
    "registry",
    ["inspect", "--remote", `${DEAD_REGISTRY}/kiln-test/x:1`],
    "empty",
    /127\.0\.0\.1:1/,
  ],
  // the model did not start (7) / the prediction failed (1): run directly on this machine
  ["predict", "runtime", ["predict", "--no-docker"], "setupfails", /setup\(\) failed/],
  // serve keeps answering SETUP_FAILED, as Cog does, unless asked to exit
  [
    "serve",
    "runtime",
    ["serve", "-p", "0", "--no-docker", "--exit-on-setup-failure"],
    "setupfails",
    /setup\(\) failed/,
  ],
  [
    "playground",
    "runtime",
    ["playground", "-p", "0", "--no-open", "--no-docker", "--exit-on-setup-failure"],
    "setupfails",
    /setup\(\) failed/,
  ],
  ["predict", "predictionFailed", ["predict", "--no-docker"], "fails", /the prediction failed: .*bad input/],
  // kiln client: the file does not match the model (9)
  [
    "client",
    "clientMismatch",
    ["client", "schema.json", "-o", "old.ts", "--model", "a/b", "--check"],
    "schema",
    /old\.ts is out of date \(with breaking changes\)/,
  ],
  [
    "client",
    "clientMismatch",
    ["client", "schema.json", "-o", "old.ts", "--model", "a/b"],
    "schema",
    /the model's interface changed in ways that break callers/,
  ],
  [
    "client",
    "usage",
    ["client", "schema.json", "-o", "foreign.ts"],
    "schema",
    /was not generated by kiln client/,
  ],
];

describe("exit codes: one row per failure class and command", () => {
  beforeAll(async () => {
    // old.ts: what `kiln client` wrote for the model's previous interface (input y, now x).
    const r = await kiln(
      ["client", "old.json", "-o", "old.ts", "--lang", "ts", "--model", "a/b"],
      dirs["schema"]!,
    );
    expect(r.code, r.stderr).toBe(0);
  });

  it.each(ROWS)("kiln %s: %s %j", async (_command, failure, args, dir, message, env) => {
    Object.assign(process.env, env ?? {});
    const r = await kiln(args, dirs[dir] as string);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(EXIT_CODES[failure]);
    expect(r.stderr).not.toMatch(/Unexpected error|a bug in kiln/);
  });

  // ioredis gives up on an unreachable Redis after about 10 s.
  it("kiln gateway: an unreachable Redis is 'could not start' (7)", { tags: ["slow"] }, async () => {
    const r = await kiln(["gateway", "--redis", "redis://127.0.0.1:1", "-p", "0"], dirs["empty"] as string);
    expect(r.stderr).toMatch(/gateway could not start/);
    expect(r.code).toBe(EXIT_CODES.runtime);
  });

  it("kiln login: an unreachable registry is a registry error (6)", async () => {
    const { ctx } = testContext(dirs["empty"]);
    const stdin = new PassThrough();
    stdin.end("secret\n");
    const failure = await runLogin(ctx, DEAD_REGISTRY, { username: "u", passwordStdin: true }, stdin).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RegistryError);
    expect(classify(failure, false).exitCode).toBe(EXIT_CODES.registry);
  });
});

describe("Ctrl-C is 130 in every command, whatever the interrupted step threw", () => {
  const interrupted: [string, string[], string][] = [
    ["build", ["build"], "valid"],
    ["predict", ["predict", "--no-docker"], "valid"],
    ["predict", ["predict", "kiln-test/none:1"], "empty"],
    ["train", ["train", "kiln-test/none:1"], "empty"],
    ["exec", ["exec", "true"], "valid"],
    ["push", ["push", "--no-build", `${DEAD_REGISTRY}/kiln-test/x:1`], "empty"],
    ["inspect", ["inspect", "kiln-test/none:1"], "empty"],
    ["client", ["client", "--lang", "ts", "--no-docker"], "valid"],
    ["deploy", ["deploy", "swarm", `${DEAD_REGISTRY}/kiln-test/x@${DIGEST}`], "empty"],
    ["login", ["login", "-u", "u", "--password-stdin", DEAD_REGISTRY], "empty"],
  ];
  it.each(interrupted)("kiln %s", async (_command, args, dir) => {
    const ac = new AbortController();
    ac.abort();
    const r = await kiln(args, dirs[dir] as string, ac.signal);
    expect(r.code).toBe(EXIT_CODES.interrupted);
    expect(r.stderr).toMatch(/^error: Interrupted/m);
  });

  it.each([
    ["serve", ["serve", "-p", "0", "--no-docker"]],
    ["playground", ["playground", "-p", "0", "--no-docker", "--no-open"]],
  ])("%s stops on Ctrl-C as its normal end (0)", async (_command, args) => {
    const ac = new AbortController();
    ac.abort();
    const r = await kiln(args, dirs["valid"] as string, ac.signal);
    expect(r.code).toBe(EXIT_CODES.ok);
  });

  it("classify: an error after the abort becomes InterruptedError; unknown errors are internal", () => {
    expect(classify(new RegistryError("push broke off"), true)).toBeInstanceOf(InterruptedError);
    expect(classify(new TypeError("x is undefined"), false).exitCode).toBe(EXIT_CODES.internal);
  });
});

describe("--json runs carry the error's code on stdout", () => {
  const rows: [string, string[], string, string, Failure][] = [
    ["build", ["build", "--json"], "valid", "docker_unavailable", "dockerUnavailable"],
    ["build", ["build", "--json"], "broken", "manifest_invalid", "manifest"],
    [
      "push",
      ["push", "--json", "--no-build", `${DEAD_REGISTRY}/kiln-test/x:1`],
      "empty",
      "docker_unavailable",
      "dockerUnavailable",
    ],
    [
      "inspect",
      ["inspect", "--json", "--remote", `${DEAD_REGISTRY}/kiln-test/x:1`],
      "empty",
      "registry_error",
      "registry",
    ],
    ["predict", ["predict", "--json", "{}", "prompt=hi"], "valid", "usage", "usage"],
    ["predict", ["predict", "--no-docker", "--json", "{}"], "fails", "prediction_failed", "predictionFailed"],
    ["train", ["train", "--no-docker", "--json", "{}"], "valid", "manifest_invalid", "manifest"],
  ];
  it.each(rows)("kiln %s: %s", async (_command, args, dir, code, failure) => {
    const r = await kiln(args, dirs[dir] as string);
    expect(r.code).toBe(EXIT_CODES[failure]);
    const lines = r.stdout.trim();
    // The error document is the last JSON document on stdout (predict --json prints the prediction first).
    const doc = JSON.parse(lines.slice(lines.lastIndexOf('\n{\n  "error"') + 1)) as {
      error: { code: string; exitCode: number; message: string };
    };
    expect(doc.error).toMatchObject({ code, exitCode: EXIT_CODES[failure] });
    expect(doc.error.message.length).toBeGreaterThan(0);
  });
});
