/**
 * The exit-code rows that need a running engine (test/cli/exit-codes.test.ts has the rest): a failed
 * pull and a failed push are registry errors (6); bad KILN_* settings met while starting a model are
 * usage errors (2).
 */
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { Engine } from "../../src/docker/engine.js";
import { EXIT_CODES } from "../../src/errors.js";
import { buildFakeModelImage, engine, kilnContainers, removeImage } from "./predict-helpers.js";

const TAG = `kiln-test/exit-codes:${process.pid}`;
/** Nothing listens on port 1 of the loopback: the engine's connection is refused at once. */
const DEAD = `127.0.0.1:1/kiln-test/exit-codes-${process.pid}`;
const SCHEMA = {
  openapi: "3.0.2",
  info: { title: "Cog", version: "0.0.0-test" },
  paths: {},
  components: { schemas: { Input: { type: "object", properties: {} }, Output: { type: "string" } } },
};
let docker: Engine;
const savedEnv = { ...process.env };

beforeAll(async () => {
  docker = await engine();
  await buildFakeModelImage(TAG, SCHEMA);
  await docker.tagImage(TAG, `${DEAD}:1`);
});
afterEach(() => {
  process.env = { ...savedEnv };
});
afterAll(async () => {
  expect(await kilnContainers(docker)).toEqual([]);
  await docker.removeImage(`${DEAD}:1`, true).catch(() => undefined);
  await removeImage(docker, TAG);
});

async function kiln(args: string[]): Promise<{ code: number; stderr: string }> {
  const sink = new PassThrough();
  const err = new PassThrough();
  let stderr = "";
  err.on("data", (c: Buffer) => (stderr += c.toString()));
  sink.resume();
  const code = await main(["node", "kiln", ...args], { stdout: sink, stderr: err });
  return { code, stderr };
}

describe("exit codes with a running engine", () => {
  const rows: [string, string[], keyof typeof EXIT_CODES, RegExp, Record<string, string>][] = [
    ["predict: a failed pull", ["predict", `${DEAD}:missing`], "registry", /could not be pulled/, {}],
    ["push: an unreachable registry", ["push", "--no-build", `${DEAD}:1`], "registry", /127\.0\.0\.1:1/, {}],
    [
      "predict: bad KILN_NETWORK",
      ["predict", TAG],
      "usage",
      /KILN_NETWORK=sideways/,
      { KILN_NETWORK: "sideways" },
    ],
    [
      "predict: bad KILN_CONTAINER_LABELS",
      ["predict", TAG],
      "usage",
      /KILN_CONTAINER_LABELS holds "team"/,
      { KILN_CONTAINER_LABELS: "team" },
    ],
  ];
  it.each(rows)("%s", async (_name, args, failure, message, env) => {
    Object.assign(process.env, env);
    const r = await kiln(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(EXIT_CODES[failure]);
  });
});
