import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listContext } from "../../src/build/context.js";
import { renderBuildStages, renderDockerfile } from "../../src/build/dockerfile.js";
import { fingerprintContext } from "../../src/build/fingerprint.js";
import { prepareBuild } from "../../src/build/prepare.js";
import { checkSecretSpec } from "../../src/cli/flags.js";
import { loadFixtureManifest } from "./fixture-manifest.js";

const BUNDLE = join(import.meta.dirname, "../fixtures/build/_runtime-bundle");
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-stages-"));
  await writeFile(
    join(dir, "cog.yaml"),
    'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\npredict: "predict.py:Predictor"\nweights:\n  - big.bin\n',
  );
  await writeFile(join(dir, "predict.py"), "class Predictor:\n    pass\n");
  await writeFile(join(dir, "requirements.txt"), "numpy\n");
  await writeFile(join(dir, "big.bin"), Buffer.alloc(5 * 1024 * 1024, 1));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function depsFingerprint(): Promise<string> {
  const { plan } = await prepareBuild(await loadFixtureManifest(dir));
  const stages = renderBuildStages(plan, "deps:x");
  const entries = await listContext({
    root: dir,
    plan,
    dockerfile: stages.deps,
    runtimeBundle: BUNDLE,
    part: "deps",
  });
  return fingerprintContext(entries, { base: "sha256:base" });
}

describe("two-stage build", () => {
  it("splits the Dockerfile into a dependencies part and a code stage that together equal the whole", async () => {
    const { plan } = await prepareBuild(await loadFixtureManifest(dir));
    const stages = renderBuildStages(plan, "kiln-deps/x:abc");
    expect(stages.deps).not.toContain("COPY src/ /src/");
    expect(stages.deps).toContain("COPY src/requirements.txt /tmp/kiln/requirements.txt");
    expect(stages.code.split("\n").filter((l) => !l.startsWith("#"))[0]).toBe("FROM kiln-deps/x:abc");
    const whole = renderDockerfile(plan);
    expect(whole).toBe(`${stages.deps}${stages.code.split("\n").slice(2).join("\n")}`);
  });

  it("sends weights only with the dependencies part and code only with the code part", async () => {
    const { plan } = await prepareBuild(await loadFixtureManifest(dir));
    const deps = await listContext({ root: dir, plan, dockerfile: "x", runtimeBundle: BUNDLE, part: "deps" });
    const code = await listContext({ root: dir, plan, dockerfile: "x", runtimeBundle: BUNDLE, part: "code" });
    const names = (es: { name: string; type: string }[]): string[] =>
      es.filter((e) => e.type === "file").map((e) => e.name);
    expect(names(deps)).toContain("kiln/weights/0/src/big.bin");
    expect(names(deps)).toContain("src/requirements.txt");
    expect(names(deps)).not.toContain("src/predict.py");
    expect(names(code)).toEqual(["Dockerfile", "src/cog.yaml", "src/predict.py", "src/requirements.txt"]);
  });

  it("fingerprints the dependencies: stable, blind to code edits, sensitive to weights and requirements", async () => {
    const first = await depsFingerprint();
    expect(await depsFingerprint()).toBe(first);
    await writeFile(join(dir, "predict.py"), "class Predictor:\n    x = 1\n");
    expect(await depsFingerprint()).toBe(first);
    await writeFile(join(dir, "requirements.txt"), "numpy==2.0\n");
    const second = await depsFingerprint();
    expect(second).not.toBe(first);
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, "big.bin"), later, later); // any write moves mtime/ctime
    expect(await depsFingerprint()).not.toBe(second);
  });
});

describe("--secret specs", () => {
  it("accepts id+src / id+env and rejects anything else with a usage error", () => {
    expect(checkSecretSpec("id=hf,env=HF_TOKEN")).toBe("id=hf,env=HF_TOKEN");
    expect(checkSecretSpec("id=npmrc,src=/home/me/.npmrc")).toBe("id=npmrc,src=/home/me/.npmrc");
    expect(() => checkSecretSpec("hf_token")).toThrow(/expected id=NAME,src=FILE or id=NAME,env=VAR/);
    expect(() => checkSecretSpec("id=x")).toThrow(/--secret id=x/);
  });
});

describe("dependencies image names", () => {
  it("name the inputs' fingerprint, not the model, and can be found again from a model's labels", async () => {
    const { depsTagFor, depsTagOf } = await import("../../src/build/prune.js");
    const fp = "ab".repeat(32);
    expect(depsTagFor(fp)).toBe(`kiln-deps:${"ab".repeat(12)}`);
    expect(depsTagOf({ "kiln.deps.fingerprint": fp })).toBe(depsTagFor(fp));
    expect(depsTagOf({})).toBeNull();
  });
});
