/**
 * The container runner against the real engine, with a tiny image (FROM kiln-test/node) whose server
 * (the fake model, installed where kiln's server lives) only mimics the health-check states: start, READY, SETUP_FAILED, early exit, removal.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/docker/engine.js";
import { EngineApi } from "../../src/docker/api.js";
import { startModelContainer } from "../../src/docker/container.js";
import { predict, waitForReady } from "../../src/prediction/client.js";
import { buildFakeModelImage, engine, kilnContainers, removeImage } from "./predict-helpers.js";

const TAG = `kiln-test/fake-model:${process.pid}`;
let docker: Engine;
const never = new AbortController().signal;

beforeAll(async () => {
  process.env["KILN_CONTAINER_LABELS"] = "kiln.test=1";
  docker = await engine();
  await buildFakeModelImage(TAG);
});

afterAll(async () => {
  expect(await kilnContainers(docker)).toEqual([]);
  await removeImage(docker, TAG);
});

async function start(env: Record<string, string>, logs?: string[]) {
  return startModelContainer(new EngineApi(), {
    image: TAG,
    role: "predict",
    env,
    imageCmd: ["node", "/kiln/server.mjs"],
    onLog: (_s, t) => logs?.push(t),
  });
}

describe("container runner", () => {
  it("starts the image, waits for READY, predicts, streams logs and removes the container", async () => {
    const logs: string[] = [];
    const c = await start({ FAKE_SETUP_MS: "300" }, logs);
    try {
      expect(c.network).toBe("host"); // this engine runs with --bridge=none
      expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const labels = (await docker.inspectContainer(c.id)).Config.Labels;
      expect(labels).toMatchObject({ "kiln.container": "predict", "kiln.test": "1" });
      await waitForReady(c.url, { timeoutMs: 20_000, signal: never, exited: c.exited, tail: c.tail });
      const r = await predict(c.url, { input: { text: "hi there" }, signal: never });
      expect(r.prediction.output).toEqual(["hi", "there"]);
      // --host 127.0.0.1 was appended: the server answers on loopback only.
      expect(logs.join("")).toContain(`fake model listening on ${c.url}`);
    } finally {
      await c.remove();
    }
    await expect(docker.inspectContainer(c.id)).rejects.toMatchObject({ statusCode: 404 });
    await c.remove(); // a second call is harmless
  });

  it("reports SETUP_FAILED with the setup logs", async () => {
    const c = await start({ FAKE_MODE: "setup_failed", FAKE_SETUP_MS: "100" });
    try {
      await expect(
        waitForReady(c.url, { timeoutMs: 20_000, signal: never, exited: c.exited, tail: c.tail }),
      ).rejects.toMatchObject({
        message: "the model's setup() failed",
        details: expect.arrayContaining(["RuntimeError: weights missing"]),
      });
    } finally {
      await c.remove();
    }
  });

  it("notices a container that exits before it is ready, with its output", async () => {
    const c = await start({ FAKE_MODE: "exit", FAKE_SETUP_MS: "300" });
    try {
      const err = await waitForReady(c.url, {
        timeoutMs: 20_000,
        signal: never,
        exited: c.exited,
        tail: c.tail,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ message: expect.stringContaining("exit status 3") });
      expect((err as { details: string[] }).details.join("\n")).toContain("fake model listening");
    } finally {
      await c.remove();
    }
  });
});
