/** Commands load cog.yaml through loadManifestForCommand: warnings are printed, errors thrown. */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createCommandContext, type CommandContext } from "../../src/cli/context.js";
import { loadManifestForCommand } from "../../src/cli/load-manifest.js";
import { Output } from "../../src/cli/output.js";
import { ManifestError } from "../../src/errors.js";
import { makeProject, PREDICT_TS, type Project } from "../manifest/helpers.js";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let project: Project | undefined;
afterEach(() => project?.cleanup());

function context(cwd: string): { ctx: CommandContext; stdout: Capture; stderr: Capture } {
  const stdout = new Capture();
  const stderr = new Capture();
  const out = new Output({ color: false }, stdout, stderr);
  return {
    ctx: createCommandContext(out, { cwd, signal: new AbortController().signal, debug: false }),
    stdout,
    stderr,
  };
}

describe("loadManifestForCommand", () => {
  it("prints deprecation warnings on stderr in the problem format and returns the manifest", async () => {
    project = makeProject({
      "cog.yaml": 'build:\n  pre_install:\n    - echo hi\n  fast: true\npredict: "predict.ts:predictor"\n',
      "predict.ts": PREDICT_TS,
    });
    const { ctx, stdout, stderr } = context(project.root);
    const { manifest } = await loadManifestForCommand(ctx, undefined);
    expect(manifest.predict?.name).toBe("predictor");
    expect(stdout.text).toBe("");
    expect(stderr.text).toBe(
      "warning: cog.yaml:2:3 build.pre_install: pre_install is deprecated\n" +
        "    hint: use build.run (its commands run after packages are installed)\n" +
        "warning: cog.yaml:4:3 build.fast: fast is a Cog setting that kiln ignores\n" +
        "    hint: remove it, or keep it for Cog\n",
    );
  });

  it("throws ManifestError (exit 3) with only the errors, printing nothing itself", async () => {
    project = makeProject({ "cog.yaml": "build:\n  python_packages: [x]\n  gpu: maybe\n" });
    const { ctx, stderr } = context(project.root);
    const err = await loadManifestForCommand(ctx, "cog.yaml").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).exitCode).toBe(3);
    expect((err as ManifestError).details).toEqual([
      'cog.yaml:3:8 build.gpu: expected true or false, found the string "maybe"\n    hint: write true or false without quotes',
    ]);
    expect(stderr.text).toBe("");
  });
});
