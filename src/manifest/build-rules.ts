/** Checks of the build: section (versions, files, commands, deprecations). */
import { checkEnvironment } from "./environment.js";
import { clip, describeValue, quote } from "./problems.js";
import { asRecord, checkImageName, checkProjectFile, type RuleContext } from "./rule-helpers.js";
import type { KeyPath } from "./yaml-source.js";

export const SUPPORTED_PYTHON = ["3.10", "3.11", "3.12", "3.13"];
export const MIN_NODE_MAJOR = 20;

/** Values of build: that the rules normalised (versions read from the source text). */
export interface BuildChecked {
  pythonVersion: string | null;
  cuda: string | null;
  cudnn: string | null;
  nodeVersion: number | null;
  buildEnvironment: Record<string, string>;
}

export function checkBuildSection(ctx: RuleContext, build: Record<string, unknown>): BuildChecked {
  const checked: BuildChecked = {
    pythonVersion: checkPythonVersion(ctx, build.python_version),
    cuda: versionText(ctx, ["build", "cuda"], build.cuda, /^\d+(\.\d+){1,2}$/, '"12.1"'),
    cudnn: versionText(ctx, ["build", "cudnn"], build.cudnn, /^\d+(\.\d+){0,2}$/, '"8"'),
    nodeVersion: checkNodeVersion(ctx, build.node_version),
    buildEnvironment: checkEnvironment(build.environment, ["build", "environment"], ctx.problems),
  };
  checkBuild(ctx, build, checked);
  return checked;
}

function checkBuild(ctx: RuleContext, build: Record<string, unknown>, checked: BuildChecked): void {
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
        "key",
        "deprecated",
      );
    }
  }
  if (Array.isArray(build.pre_install) && build.pre_install.length > 0) {
    problems.warn(
      ["build", "pre_install"],
      "pre_install is deprecated",
      "use build.run (its commands run after packages are installed)",
      "key",
      "deprecated",
    );
  }
  for (const key of ["fast", "cog_runtime"] as const) {
    if (build[key] !== undefined)
      problems.warn(
        ["build", key],
        `${key} is a Cog setting that kiln ignores`,
        "remove it, or keep it for Cog",
        "key",
        "cog_setting_ignored",
      );
  }
  if (checked.cuda !== null && build.gpu !== true) {
    problems.warn(
      ["build", "cuda"],
      "cuda has no effect without gpu: true",
      "add gpu: true under build:, or remove cuda",
      "key",
      "cuda_without_gpu",
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
      // A relative target passes through to BuildKit as Cog passes it (relative to the command's
      // working directory), so manifests written for Cog keep building.
      if (typeof mount.target === "string" && mount.target.trim() === "") {
        ctx.problems.error(
          ["build", "run", i, "mounts", j, "target"],
          "expected a path, found an empty string",
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
      "unquoted_version",
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
  if (m[1] === "3" && Number(m[2]) < 10) {
    ctx.problems.error(
      path,
      `Python ${clip(text)} is no longer supported: Cog 0.16 was the last Cog version that accepted it; Cog 0.17+ and kiln need ${SUPPORTED_PYTHON[0]} or newer`,
      `set python_version: "${SUPPORTED_PYTHON[0]}" (or newer) and make sure your pinned packages have wheels for it (torch>=1.11, tensorflow>=2.8, numpy>=1.21.3)`,
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
