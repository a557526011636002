import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { loadManifest } from "../../src/manifest/load.js";
import { startLocalModel } from "../../src/session/local-model.js";

const dir = mkdtempSync(join(tmpdir(), "kiln-local-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("startLocalModel (--no-docker)", () => {
  it("a port taken after serve checked it is a usage error (exit 2), not an internal one", async () => {
    writeFileSync(
      join(dir, "cog.yaml"),
      'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
    );
    writeFileSync(
      join(dir, "predict.py"),
      "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'ok'\n",
    );
    const { manifest } = await loadManifest({ cwd: dir });
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const started = startLocalModel(manifest, { python: "python3", env: {}, setupTimeoutMs: 30_000, port });
      await expect(started).rejects.toThrow(UsageError);
      await expect(started).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it("a TS predictor's relative paths resolve from the project root, whatever the working directory", async () => {
    const project = mkdtempSync(join(tmpdir(), "kiln-local-ts-"));
    try {
      writeFileSync(
        join(project, "cog.yaml"),
        'build:\n  node_version: "20"\npredict: "predict.ts:predictor"\n',
      );
      writeFileSync(join(project, "data.txt"), "from the root");
      writeFileSync(
        join(project, "predict.ts"),
        [
          'import { readFileSync } from "node:fs";',
          'import { definePredictor, z } from "kiln-ml";',
          'export const predictor = definePredictor({ inputs: {}, output: z.string(), predict: () => readFileSync("data.txt", "utf8") });',
          "",
        ].join("\n"),
      );
      const { manifest } = await loadManifest({ cwd: project });
      // This test runs elsewhere than the project: a worker thread would read data.txt from here.
      expect(process.cwd()).not.toBe(project);
      const model = await startLocalModel(manifest, { python: "python3", env: {}, setupTimeoutMs: 30_000 });
      try {
        expect(await model.ready).toBe("READY");
        const r = await fetch(`${model.url}/predictions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        expect(await r.json()).toMatchObject({ status: "succeeded", output: "from the root" });
      } finally {
        await model.close();
      }
      const bad = startLocalModel(manifest, {
        python: "python3",
        env: { KILN_NODE_WORKER_MODE: "fibers" },
        setupTimeoutMs: 30_000,
      });
      await expect(bad).rejects.toThrow(UsageError);
      await expect(bad).rejects.toThrow(/KILN_NODE_WORKER_MODE must be "thread" .* got "fibers"/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
