/**
 * `kiln serve IMAGE` through the real CLI process: it announces the URL once READY, answers HTTP while
 * attached, and Ctrl-C stops and removes the container.
 */
import { createServer } from "node:net";
import type { Engine } from "../../src/docker/engine.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFakeModelImage, cogSchema, engine, kilnContainers, removeImage } from "./predict-helpers.js";
import { kiln, startKilnServer } from "./predict-cli.js";

const TAG = `kiln-test/fake-model-serve:${process.pid}`;
const SCHEMA = cogSchema({
  input: { text: { type: "string", "x-order": 0 } },
  output: { type: "array", items: { type: "string" } },
});
let docker: Engine;

beforeAll(async () => {
  docker = await engine();
  await buildFakeModelImage(TAG, SCHEMA);
});

afterAll(async () => {
  expect(await kilnContainers(docker)).toEqual([]);
  await removeImage(docker, TAG);
});

describe("kiln serve IMAGE", () => {
  it("serves until Ctrl-C, then stops and removes the container", async () => {
    const { url, stop } = await startKilnServer(["serve", TAG, "-p", "0"], { cwd: process.cwd() });
    const health = (await (await fetch(`${url}/health-check`)).json()) as { status: string };
    expect(health.status).toBe("READY");
    const res = await fetch(`${url}/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"input":{"text":"a b"}}',
    });
    expect(((await res.json()) as { output: unknown }).output).toEqual(["a", "b"]);
    expect(await kilnContainers(docker)).toHaveLength(1);
    const r = await stop();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("fake model listening"); // the container's own output is shown
    expect(await kilnContainers(docker)).toEqual([]);
  });

  it("refuses a port that is already taken, before starting anything", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await kiln(["serve", TAG, "-p", String(port)], { cwd: process.cwd() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });
});
