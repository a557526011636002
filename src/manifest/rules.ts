/**
 * Checks of meaning that a type cannot express: versions, files that must exist, predictor names,
 * reserved environment names, deprecations. Runs on the plain parsed YAML, key by key, so one bad
 * key never hides the problems of another.
 */
import { checkEnvironment } from "./environment.js";
import { isInsideProject, type FileProbe } from "./files.js";
import { definedNames, parseRef } from "./predictor-ref.js";
import { clip, describeValue, quote, type ProblemList } from "./problems.js";
import type { PredictorRef } from "./types.js";
import type { KeyPath, ParsedYaml } from "./yaml-source.js";

export interface RuleContext {
  data: Record<string, unknown>;
  yaml: ParsedYaml;
  problems: ProblemList;
  probe: FileProbe;
}

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

export const SUPPORTED_PYTHON = ["3.10", "3.11", "3.12", "3.13"];
export const MIN_NODE_MAJOR = 20;
// Predictor files larger than this are scanned only in part (the names are near the top anyway).
const SCAN_BYTES = 512 * 1024;

export function checkRules(ctx: RuleContext): Checked {
  const build = asRecord(ctx.data.build);
  const checked: Checked = {
    pythonVersion: build ? checkPythonVersion(ctx, build.python_version) : null,
    cuda: build ? versionText(ctx, ["build", "cuda"], build.cuda, /^\d+(\.\d+){1,2}$/, '"12.1"') : null,
    cudnn: build ? versionText(ctx, ["build", "cudnn"], build.cudnn, /^\d+(\.\d+){0,2}$/, '"8"') : null,
    nodeVersion: build ? checkNodeVersion(ctx, build.node_version) : null,
    predict: null,
    train: null,
    environment: checkEnvironment(ctx.data.environment, ["environment"], ctx.problems),
    buildEnvironment: build
      ? checkEnvironment(build.environment, ["build", "environment"], ctx.problems)
      : {},
  };
  if (build) checkBuild(ctx, build, checked);

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
    ctx.problems.warn(["tests"], "tests is a Cog setting that kiln ignores", "remove it, or keep it for Cog");
  return checked;
}

function checkBuild(ctx: RuleContext, build: Record<string, unknown>, checked: Checked): void {
  const { problems } = ctx;
  if (typeof build.python_requirements === "string")
    checkProjectFile(ctx, ["build", "python_requirements"], build.python_requirements, "requirements file");
  if (typeof build.python_overrides === "string")
    checkProjectFile(ctx, ["build", "python_overrides"], build.python_overrides, "overrides file");
  if (Array.isArray(build.python_packages) && build.python_packages.length > 0) {
    if (build.python_requirements !== undefined) {
      problems.error(
        ["build", "python_packages"],
        "python_packages and python_requirements are both set",
        "move the packages into the requirements file and remove python_packages",
        "key",
      );
    } else {
      problems.warn(
        ["build", "python_packages"],
        "python_packages is deprecated",
        "put the packages in requirements.txt and set python_requirements: requirements.txt",
      );
    }
  }
  if (Array.isArray(build.pre_install) && build.pre_install.length > 0) {
    problems.warn(
      ["build", "pre_install"],
      "pre_install is deprecated",
      "use build.run (its commands run after packages are installed)",
    );
  }
  for (const key of ["fast", "cog_runtime"] as const) {
    if (build[key] !== undefined)
      problems.warn(
        ["build", key],
        `${key} is a Cog setting that kiln ignores`,
        "remove it, or keep it for Cog",
      );
  }
  if (checked.cuda !== null && build.gpu !== true) {
    problems.warn(
      ["build", "cuda"],
      "cuda has no effect without gpu: true",
      "add gpu: true under build:, or remove cuda",
    );
  }
  if (Array.isArray(build.system_packages)) {
    build.system_packages.forEach((pkg, i) => {
      if (typeof pkg !== "string") return;
      if (pkg.trim() === "")
        problems.error(
          ["build", "system_packages", i],
          "expected an apt package name, found an empty string",
        );
      else if (/\s/.test(pkg.trim())) {
        problems.error(
          ["build", "system_packages", i],
          `expected one apt package name, found ${quote(pkg)}`,
          "list each package on its own line",
        );
      }
    });
  }
  if (Array.isArray(build.run)) checkRunCommands(ctx, build.run);
  if (typeof build.base_image === "string") checkImageName(ctx, ["build", "base_image"], build.base_image);
}

function checkRunCommands(ctx: RuleContext, run: unknown[]): void {
  run.forEach((item, i) => {
    const command = typeof item === "string" ? item : asRecord(item)?.command;
    const at: KeyPath = typeof item === "string" ? ["build", "run", i] : ["build", "run", i, "command"];
    if (typeof command === "string" && command.trim() === "")
      ctx.problems.error(at, "expected a shell command, found an empty string");
    const mounts = asRecord(item)?.mounts;
    if (!Array.isArray(mounts)) return;
    const ids = new Set<string>();
    mounts.forEach((m, j) => {
      const mount = asRecord(m);
      if (!mount) return;
      if (typeof mount.id === "string") {
        if (ids.has(mount.id))
          ctx.problems.error(
            ["build", "run", i, "mounts", j, "id"],
            `secret ${quote(mount.id)} is mounted twice in this command`,
          );
        ids.add(mount.id);
      }
      if (typeof mount.target === "string" && !mount.target.startsWith("/")) {
        ctx.problems.error(
          ["build", "run", i, "mounts", j, "target"],
          `expected an absolute path, found ${quote(mount.target)}`,
          `e.g. /run/secrets/${String(mount.id ?? "token")}`,
        );
      }
    });
  });
}

function checkPythonVersion(ctx: RuleContext, value: unknown): string | null {
  const path: KeyPath = ["build", "python_version"];
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === "number") {
    const source = ctx.yaml.node(path)?.plainSource ?? String(value);
    if (source !== String(value)) {
      ctx.problems.error(
        path,
        `found ${clip(source)} without quotes, which YAML reads as the number ${value}`,
        `quote it: python_version: "${source}"`,
      );
      return null;
    }
    ctx.problems.warn(
      path,
      `python_version ${clip(source)} is not quoted`,
      `quote it (python_version: "${source}"): unquoted, "3.10" would be read as 3.1`,
      "value",
    );
    text = source;
  } else if (typeof value === "string") {
    text = value.trim();
  } else {
    return null;
  }
  const m = /^(\d+)\.(\d+)(\.\d+)?$/.exec(text);
  if (!m) {
    ctx.problems.error(
      path,
      `expected a Python version such as "3.12", found ${describeValue(value)}`,
      `supported versions: ${SUPPORTED_PYTHON.join(", ")}`,
    );
    return null;
  }
  if (!SUPPORTED_PYTHON.includes(`${m[1]}.${m[2]}`)) {
    ctx.problems.error(
      path,
      `Python ${clip(text)} is not supported; expected ${SUPPORTED_PYTHON[0]} to ${SUPPORTED_PYTHON[SUPPORTED_PYTHON.length - 1]}`,
      `use python_version: "${SUPPORTED_PYTHON[SUPPORTED_PYTHON.length - 2]}"`,
    );
    return null;
  }
  return text;
}

/** CUDA/cuDNN versions: quoted strings, or unquoted numbers read back from the source text. */
function versionText(
  ctx: RuleContext,
  path: KeyPath,
  value: unknown,
  shape: RegExp,
  example: string,
): string | null {
  if (value === undefined || value === null) return null;
  const text =
    typeof value === "number"
      ? (ctx.yaml.node(path)?.plainSource ?? String(value))
      : typeof value === "string"
        ? value.trim()
        : null;
  if (text === null) return null;
  if (!shape.test(text)) {
    ctx.problems.error(path, `expected a version such as ${example}, found ${describeValue(value)}`);
    return null;
  }
  return text;
}

function checkNodeVersion(ctx: RuleContext, value: unknown): number | null {
  if (typeof value !== "number" && typeof value !== "string") return null;
  const path: KeyPath = ["build", "node_version"];
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) {
    ctx.problems.error(
      path,
      `expected a Node.js major version such as 20, found ${describeValue(value)}`,
      "give the major version only (kiln picks the latest release of it)",
    );
    return null;
  }
  const major = Number(text);
  if (major < MIN_NODE_MAJOR) {
    ctx.problems.error(
      path,
      `Node.js ${major} is too old; expected ${MIN_NODE_MAJOR} or newer`,
      `use node_version: ${MIN_NODE_MAJOR}`,
    );
    return null;
  }
  return major;
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

function checkProjectFile(ctx: RuleContext, path: KeyPath, rel: string, what: string): void {
  if (!isInsideProject(rel.trim())) {
    ctx.problems.error(
      path,
      `the ${what} ${quote(rel)} is outside the project`,
      "use a path relative to the directory of cog.yaml, inside it",
    );
    return;
  }
  const kind = ctx.probe.kind(rel.trim());
  if (kind === "missing")
    ctx.problems.error(
      path,
      `the ${what} ${clip(rel)} does not exist`,
      "create it, or fix the path (relative to the directory of cog.yaml)",
    );
  else if (kind === "dir") ctx.problems.error(path, `the ${what} ${clip(rel)} is a directory, not a file`);
}

// Docker reference: optional registry host[:port]/, lowercase path components, optional :tag, optional @digest.
const IMAGE_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function checkImageName(ctx: RuleContext, path: KeyPath, name: string): void {
  if (IMAGE_REF.test(name)) return;
  const lower = name.toLowerCase();
  const hint =
    name !== lower && IMAGE_REF.test(lower)
      ? `image names are lowercase: ${lower}`
      : 'use lowercase letters, digits, ".", "-", "_" and "/", e.g. registry.example.com/me/model:1.0';
  ctx.problems.error(path, `${quote(name)} is not a valid image name`, hint);
}

function checkWeights(ctx: RuleContext): void {
  if (!Array.isArray(ctx.data.weights)) return;
  ctx.data.weights.forEach((item, i) => {
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
      );
    }
  });
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
