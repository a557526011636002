/**
 * Checks of meaning that a type cannot express: versions, files that must exist, predictor names,
 * reserved environment names, deprecations. Runs on the plain parsed YAML, key by key, so one bad
 * key never hides the problems of another.
 */
import { checkBuildSection } from "./build-rules.js";
import { checkEnvironment } from "./environment.js";
import { isInsideProject } from "./files.js";
import { definedNames, parseRef } from "./predictor-ref.js";
import { clip, quote } from "./problems.js";
import { asRecord, checkImageName, type RuleContext } from "./rule-helpers.js";
import type { PredictorRef } from "./types.js";
import type { KeyPath } from "./yaml-source.js";

export type { RuleContext } from "./rule-helpers.js";
export { MIN_NODE_MAJOR, SUPPORTED_PYTHON } from "./build-rules.js";

/** Values the rules normalised (e.g. versions read from the source text) for resolve.ts. */
export interface Checked {
  pythonVersion: string | null;
  cuda: string | null;
  cudnn: string | null;
  nodeVersion: number | null;
  predict: PredictorRef | null;
  train: PredictorRef | null;
  environment: Record<string, string>;
  buildEnvironment: Record<string, string>;
}

// Predictor files larger than this are scanned only in part (the names are near the top anyway).
const SCAN_BYTES = 512 * 1024;

export function checkRules(ctx: RuleContext): Checked {
  const build = asRecord(ctx.data.build);
  const buildChecked = build
    ? checkBuildSection(ctx, build)
    : { pythonVersion: null, cuda: null, cudnn: null, nodeVersion: null, buildEnvironment: {} };
  const checked: Checked = {
    ...buildChecked,
    predict: null,
    train: null,
    environment: checkEnvironment(ctx.data.environment, ["environment"], ctx.problems),
  };

  if (ctx.data.predict !== undefined && ctx.data.run !== undefined) {
    ctx.problems.error(
      ["run"],
      "both predict and run are set; they are the same setting",
      "keep one of them (predict is the usual name)",
      "key",
    );
  }
  const predictKey = ctx.data.predict !== undefined ? "predict" : "run";
  checked.predict = checkRef(ctx, [predictKey], ctx.data[predictKey], "predict.py:Predictor");
  checked.train = checkRef(ctx, ["train"], ctx.data.train, "train.py:train");

  const usesPython = checked.predict?.language === "python" || checked.train?.language === "python";
  if (
    usesPython &&
    checked.pythonVersion === null &&
    (build === undefined || build.python_version === undefined)
  ) {
    const needs = checked.predict?.language === "python" ? predictKey : "train";
    ctx.problems.error(
      ["build", "python_version"],
      `is missing; ${needs} names a Python file, which needs it`,
      'add python_version: "3.12" under build:',
      "key",
      build ? ["build"] : [needs],
    );
  }
  if (typeof ctx.data.image === "string") checkImageName(ctx, ["image"], ctx.data.image);
  checkWeights(ctx);
  if (ctx.data.tests !== undefined)
    ctx.problems.warn(
      ["tests"],
      "tests is a Cog setting that kiln ignores",
      "remove it, or keep it for Cog",
      "key",
      "cog_setting_ignored",
    );
  for (const [key, hint] of IGNORED_TOP_LEVEL) {
    if (ctx.data[key] !== undefined)
      ctx.problems.warn(
        [key],
        `${key} is a Cog setting that kiln does not act on`,
        hint,
        "key",
        "cog_setting_ignored",
      );
  }
  const sdk = asRecord(ctx.data.build)?.sdk_version;
  if (sdk !== undefined && sdk !== null) {
    ctx.problems.warn(
      ["build", "sdk_version"],
      "build.sdk_version is a Cog setting that kiln does not act on",
      "kiln ships its own cog package (see docs/cog-compatibility.md); remove it, or keep it for Cog",
      "key",
      "cog_setting_ignored",
    );
  }
  return checked;
}

function checkRef(ctx: RuleContext, path: KeyPath, value: unknown, example: string): PredictorRef | null {
  if (typeof value !== "string") return null;
  const parsed = parseRef(value, example);
  if (!parsed.ok) {
    ctx.problems.error(path, parsed.message, parsed.hint);
    return null;
  }
  const kind = ctx.probe.kind(parsed.file);
  if (kind !== "file") {
    const what = kind === "dir" ? "is a directory" : "does not exist";
    ctx.problems.error(
      path,
      `${clip(parsed.file)} ${what}`,
      `create ${clip(parsed.file)} next to cog.yaml, or fix the path (it is relative to the directory of cog.yaml)`,
    );
    return null;
  }
  const source = ctx.probe.read(parsed.file, SCAN_BYTES);
  const names = source === undefined ? null : definedNames(source, parsed.language);
  if (names !== null && !names.includes(parsed.name)) {
    const what = parsed.language === "python" ? "class or function" : "export";
    const candidates = names.filter((n) => /^[A-Za-z]/.test(n)).slice(0, 8);
    const hint =
      candidates.length > 0
        ? `${clip(parsed.file)} defines: ${candidates.join(", ")}`
        : `define ${clip(parsed.name)} in ${clip(parsed.file)}`;
    ctx.problems.error(path, `${clip(parsed.file)} has no ${what} named ${clip(parsed.name)}`, hint);
  }
  return { raw: value, file: parsed.file, name: parsed.name, language: parsed.language };
}

/** Top-level keys some Cog version accepts that change nothing in kiln, with what to do instead. */
const IGNORED_TOP_LEVEL: [string, string][] = [
  ["model", "kiln pushes to image: (or -t); remove it, or keep it for cog push"],
  ["observability", "kiln sends no telemetry; remove it, or keep it for Cog"],
];

function checkWeights(ctx: RuleContext): void {
  if (!Array.isArray(ctx.data.weights)) return;
  ctx.data.weights.forEach((item, i) => {
    const remote = asRecord(asRecord(item)?.source);
    if (remote) {
      ctx.problems.warn(
        ["weights", i, "source"],
        `kiln does not fetch managed weights${typeof remote.uri === "string" ? ` (${clip(remote.uri)})` : ""}`,
        "download them into the project and list the path under weights:, or fetch them in setup()",
        "key",
        "managed_weights",
      );
      return;
    }
    const source = typeof item === "string" ? item : asRecord(item)?.source;
    const at: KeyPath = typeof item === "string" ? ["weights", i] : ["weights", i, "source"];
    if (typeof source !== "string") return;
    if (!isInsideProject(source.trim())) {
      ctx.problems.error(
        at,
        `weights path ${quote(source)} is outside the project`,
        "weights must live under the directory of cog.yaml",
      );
    } else if (!/[*?[{]/.test(source) && ctx.probe.kind(source.trim()) === "missing") {
      ctx.problems.warn(
        at,
        `weights path ${clip(source)} does not exist yet`,
        "download the weights before `kiln build`",
        "value",
        "weights_missing",
      );
    }
  });
}
