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
});
