import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseLabels } from "../../src/build/image.js";
import type { ResolvedManifest } from "../../src/manifest/types.js";

let dir = "";
const manifest = (): ResolvedManifest =>
  ({ root: dir, raw: { predict: "p.py:P" } }) as unknown as ResolvedManifest;
const saved = process.env.SOURCE_DATE_EPOCH;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-labels-"));
});
afterAll(async () => {
  if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
  else process.env.SOURCE_DATE_EPOCH = saved;
  await rm(dir, { recursive: true, force: true });
});

describe("image labels", () => {
  it("never carry the build's own time, so an unchanged project keeps its image id", async () => {
    delete process.env.SOURCE_DATE_EPOCH;
    const first = await baseLabels(manifest());
    expect(first["org.opencontainers.image.created"]).toBeUndefined();
    expect(await baseLabels(manifest())).toEqual(first);
  });

  it("take the created time from SOURCE_DATE_EPOCH, and refuse one that is not whole seconds", async () => {
    process.env.SOURCE_DATE_EPOCH = "1700000000";
    expect((await baseLabels(manifest()))["org.opencontainers.image.created"]).toBe(
      "2023-11-14T22:13:20.000Z",
    );
    process.env.SOURCE_DATE_EPOCH = "yesterday";
    await expect(baseLabels(manifest())).rejects.toThrow(/SOURCE_DATE_EPOCH must be whole seconds/);
    delete process.env.SOURCE_DATE_EPOCH;
  });

  it("in a git checkout: the last commit's time and revision", async () => {
    const git = (...args: string[]): string =>
      execFileSync("git", ["-C", dir, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@example.invalid",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@example.invalid",
          GIT_COMMITTER_DATE: "2024-01-02T03:04:05Z",
        },
      }).toString();
    git("init", "-q");
    await writeFile(join(dir, "p.py"), "x = 1\n");
    git("add", ".");
    git("commit", "-qm", "one");
    const labels = await baseLabels(manifest());
    expect(labels["org.opencontainers.image.created"]).toBe("2024-01-02T03:04:05.000Z");
    expect(labels["org.opencontainers.image.revision"]).toBe(git("rev-parse", "HEAD").trim());
  });
});
