import { mkdtemp, mkdir, open, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError } from "../../src/errors.js";
import { FIXED_MTIME, listContext, streamContext } from "../../src/build/context.js";
import { prepareBuild } from "../../src/build/prepare.js";
import { scanProject } from "../../src/build/scan.js";
import { loadFixtureManifest as readManifestForTest } from "./fixture-manifest.js";

const BUNDLE = join(import.meta.dirname, "../fixtures/build/_runtime-bundle");
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-ctx-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const scanError = (): Promise<unknown> =>
  scanProject(dir).then(
    () => null,
    (e: unknown) => e,
  );

describe("project scan", () => {
  it("refuses a symlink loop with a clear error", async () => {
    await symlink("b", join(dir, "a"));
    await symlink("a", join(dir, "b"));
    const err = await scanError();
    expect(err).toBeInstanceOf(BuildError);
    expect((err as Error).message).toBe("a is part of a symlink loop (a -> b -> ...)");
  });

  it("refuses symlinks that escape the project, directly or through another link", async () => {
    await symlink("/etc/passwd", join(dir, "passwd"));
    expect(((await scanError()) as Error).message).toBe(
      "passwd is a symlink to /etc/passwd, outside the project",
    );
    await rm(join(dir, "passwd"));
    await symlink(tmpdir(), join(dir, "up"));
    await symlink("up", join(dir, "inner"));
    expect(((await scanError()) as Error).message).toMatch(/outside the project/);
  });

  it("keeps links inside the project as links, skips .git/.kiln and honours .dockerignore", async () => {
    await mkdir(join(dir, ".git"));
    await writeFile(join(dir, ".git/HEAD"), "x");
    await mkdir(join(dir, ".kiln/cache"), { recursive: true });
    await writeFile(join(dir, ".kiln/cache/x"), "x");
    await writeFile(join(dir, ".kiln/predict.mjs"), "x");
    await writeFile(join(dir, "a.txt"), "hello");
    await writeFile(join(dir, "b.log"), "x");
    await writeFile(join(dir, ".dockerignore"), "*.log\n");
    await symlink("a.txt", join(dir, "link"));
    const files = await scanProject(dir, { forceInclude: [".kiln/predict.mjs"] });
    expect(files.map((f) => [f.path, f.type])).toEqual([
      [".dockerignore", "file"],
      [".kiln/predict.mjs", "file"],
      ["a.txt", "file"],
      ["link", "symlink"],
    ]);
  });
});

describe("context stream", () => {
  it(
    "streams a 2 GiB sparse undeclared file into a weights layer without holding it in memory",
    { tags: ["slow"], timeout: 120_000 },
    async () => {
      await writeFile(
        join(dir, "cog.yaml"),
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n',
      );
      await writeFile(join(dir, "predict.py"), "class Predictor:\n    pass\n");
      const size = 2 * 1024 ** 3;
      const fh = await open(join(dir, "huge.bin"), "w");
      await fh.truncate(size); // sparse: no disk used
      await fh.close();
      const { plan, dockerfile } = await prepareBuild(await readManifestForTest(dir));
      expect(plan.notes[0]).toMatch(
        /^huge.bin \(2.0 GiB\) is not listed under weights: but is large; it goes into its own weights layer/,
      );
      const entries = await listContext({ root: dir, plan, dockerfile, runtimeBundle: BUNDLE });
      const { stream, done } = streamContext(entries);
      const seen = new Map<string, { size: number; mtime: number; mode: number }>();
      const ex = extract();
      ex.on("entry", (h, s, next) => {
        let n = 0;
        s.on("data", (c: unknown) => (n += (c as Buffer).length));
        s.on("end", () => {
          seen.set(h.name, { size: n, mtime: h.mtime?.getTime() ?? 0, mode: h.mode ?? 0 });
          next();
        });
      });
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      await pipeline(stream, ex);
      clearInterval(timer);
      const stats = await done;
      expect(seen.get("kiln/weights/0/src/huge.bin")).toEqual({
        size,
        mtime: FIXED_MTIME.getTime(),
        mode: 0o644,
      });
      expect(seen.has("src/huge.bin")).toBe(false);
      expect(seen.get("src/predict.py")?.size).toBe(26);
      expect(stats.bytes).toBeGreaterThan(size);
      expect(peak - rssBefore).toBeLessThan(300 * 1024 * 1024);
    },
  );

  it("fails the stream when a file changes size while it is being sent", async () => {
    await writeFile(join(dir, "f.bin"), "12345");
    const { stream, done } = streamContext([
      { name: "f.bin", type: "file", size: 5, mode: 0o644, source: join(dir, "f.bin") },
    ]);
    const { stream: s2, done: d2 } = streamContext([
      { name: "missing", type: "file", size: 1, mode: 0o644, source: join(dir, "nope") },
    ]);
    stream.resume();
    await expect(done).resolves.toMatchObject({ files: 1 });
    s2.on("error", () => undefined).resume();
    await expect(d2).rejects.toThrow(/ENOENT/);
  });
});
