/**
 * The corpus's CLI cases: `kiln` as a Cog user types it, with --no-docker (the real CLI, server and
 * Python worker on this machine). Each case's project is copied to a temp dir, since runs write outputs.
 */
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { kiln } from "../integration/predict-cli.js";
import { loadCases, subsetProblems, type Json } from "./corpus.js";

const NO_ENGINE = { DOCKER_HOST: "unix:///nonexistent/kiln-compat-docker.sock" };
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const cases = loadCases().filter((c) => c.expect.cli);

describe("Cog compatibility corpus (CLI)", () => {
  test("there are CLI cases", () => expect(cases.length).toBeGreaterThan(2));

  for (const c of cases) {
    test(`${c.name}: ${c.expect.point}`, { timeout: 120_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), `kiln-compat-${c.name}-`));
      dirs.push(dir);
      await cp(c.dir, dir, { recursive: true });
      for (const run of c.expect.cli!) {
        const r = await kiln(run.args, {
          cwd: dir,
          env: NO_ENGINE,
          ...(run.stdin ? { stdin: run.stdin } : {}),
        });
        const where = `kiln ${run.args.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        expect(r.code, where).toBe(run.code);
        if (run.stdout !== undefined) expect(r.stdout, where).toBe(run.stdout);
        if (run.stdoutJson !== undefined) {
          expect(subsetProblems(JSON.parse(r.stdout) as Json, run.stdoutJson), where).toEqual([]);
        }
        for (const s of run.stderrContains ?? []) expect(r.stderr, where).toContain(s);
        for (const [name, want] of Object.entries(run.files ?? {})) {
          const text = await readFile(join(dir, name), "utf8");
          if (typeof want === "string") expect(text, where).toBe(want);
          else expect(subsetProblems(JSON.parse(text) as Json, want.json), where).toEqual([]);
        }
      }
    });
  }
});
