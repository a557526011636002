/**
 * Turns zod's structural issues into messages a person can act on: what the key expects, what the
 * file actually has, and a hint (unknown keys get "did you mean ...").
 */
import type { z } from "zod";
import { BUILD_KEYS, TOP_LEVEL_KEYS } from "./schema.js";
import { closest } from "./suggest.js";
import { describeValue, quote, valueAt, type ProblemList } from "./problems.js";
import type { KeyPath } from "./yaml-source.js";

type Issue = z.core.$ZodIssue;

const RUN_FORM =
  'a shell command string, or a mapping like {command: "...", mounts: [{type: secret, id: ..., target: ...}]}';

/** What each key expects, by path with list indexes written as `[]`. */
const EXPECTED: Record<string, string> = {
  "": "a mapping of settings (build:, predict:, ...)",
  build: "a mapping of build settings (gpu:, python_version:, ...)",
  "build.gpu": "true or false",
  "build.python_version": 'a quoted Python version such as "3.12"',
  "build.python_requirements": 'a path to a requirements file, such as "requirements.txt"',
  "build.python_packages": "a list of pip requirement strings",
  "build.python_packages[]": 'a pip requirement string such as "torch==2.3.1"',
  "build.pre_install": "a list of shell commands",
  "build.pre_install[]": "a shell command string",
  "build.system_packages": "a list of apt package names",
  "build.system_packages[]": 'an apt package name such as "ffmpeg"',
  "build.run": "a list of shell commands",
  "build.run[]": RUN_FORM,
  "build.run[].command": "a shell command string",
  "build.run[].mounts": "a list of secret mounts",
  "build.run[].mounts[]": "a mapping {type: secret, id: ..., target: ...}",
  "build.run[].mounts[].type": 'the string "secret" (the only mount type kiln supports)',
  "build.run[].mounts[].id": "a non-empty secret id string",
  "build.run[].mounts[].target": "a path string",
  "build.cuda": 'a quoted CUDA version such as "12.1"',
  "build.cudnn": 'a quoted cuDNN version such as "8"',
  "build.node_version": "a Node.js major version such as 20",
  "build.base_image": 'an image reference such as "debian:bookworm-slim"',
  "build.environment": "a list of NAME=value strings",
  "build.environment[]": "a NAME=value string",
  "build.python_overrides": "a path to an overrides file",
  "build.fast": "true or false",
  "build.cog_runtime": "true or false",
  predict: 'a predictor reference such as "predict.py:Predictor" or "predict.ts:predictor"',
  run: 'a predictor reference such as "predict.py:Predictor" or "predict.ts:predictor"',
  train: 'a trainer reference such as "train.py:train"',
  image: 'an image name such as "registry.example.com/me/my-model"',
  concurrency: "a mapping such as {max: 4}",
  "concurrency.max": "a whole number of at least 1",
  "concurrency.default_target": "a whole number of at least 1",
  environment: "a list of NAME=value strings",
  "environment[]": 'a NAME=value string such as "HF_HOME=/src/.cache"',
  weights: "a list of paths or globs",
  "weights[]": 'a path or glob such as "weights/" or a mapping {source: ..., target: ...}',
  "weights[].source": "a path or glob string",
  "weights[].target": "a path string",
  tests: "a list",
};

const KEYS_BY_LEVEL: Record<string, readonly string[]> = {
  "": TOP_LEVEL_KEYS,
  build: BUILD_KEYS,
  "build.run[]": ["command", "mounts"],
  "build.run[].mounts[]": ["type", "id", "target"],
  concurrency: ["max", "default_target"],
  "weights[]": ["source", "target"],
};

function shapeOf(path: KeyPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? "[]" : out === "" ? part : `.${part}`;
  return out;
}

function expectedAt(path: KeyPath): string | undefined {
  return EXPECTED[shapeOf(path)];
}

export function reportZodIssues(issues: readonly Issue[], data: unknown, problems: ProblemList): void {
  for (const issue of issues) reportIssue(issue, [], data, problems);
}

function reportIssue(issue: Issue, prefix: KeyPath, data: unknown, problems: ProblemList): void {
  const path: KeyPath = [...prefix, ...issue.path.map((p) => (typeof p === "number" ? p : String(p)))];
  const found = valueAt(data, path);
  const expected = expectedAt(path);
  switch (issue.code) {
    case "unrecognized_keys":
      for (const key of issue.keys) reportUnknownKey([...path, key], problems);
      return;
    case "invalid_union": {
      // For a mapping where a string-or-mapping is allowed, the mapping branch's issues are the useful ones.
      if (found !== null && typeof found === "object" && !Array.isArray(found)) {
        const objectBranch = issue.errors.find(
          (branch) => !branch.some((i) => i.code === "invalid_type" && i.path.length === 0),
        );
        if (objectBranch) {
          for (const inner of objectBranch) reportIssue(inner, path, data, problems);
          return;
        }
      }
      problems.error(
        path,
        `expected ${expected ?? "a different kind of value"}, found ${describeValue(found)}`,
      );
      return;
    }
    case "invalid_type":
      if (found === undefined && path.length > 0) {
        problems.error(
          path.slice(0, -1),
          `missing key "${String(path[path.length - 1])}" (expected ${expected ?? issue.expected})`,
        );
        return;
      }
      problems.error(
        path,
        `expected ${expected ?? issue.expected}, found ${describeValue(found)}`,
        typeHint(path, found),
      );
      return;
    case "too_small":
      problems.error(
        path,
        `expected ${expected ?? `at least ${String(issue.minimum)}`}, found ${describeValue(found)}`,
      );
      return;
    case "invalid_value":
      problems.error(
        path,
        `expected ${expected ?? issue.values.map((v) => JSON.stringify(v)).join(" or ")}, found ${describeValue(found)}`,
      );
      return;
    default:
      problems.error(
        path,
        `${issue.message}; found ${describeValue(found)}`,
        expected ? `expected ${expected}` : undefined,
      );
  }
}

function typeHint(path: KeyPath, found: unknown): string | undefined {
  const shape = shapeOf(path);
  if (shape === "run" && Array.isArray(found)) {
    return "top-level run: names the predictor (like predict:); build commands go under build: as run:";
  }
  if (typeof found === "string" && shape.endsWith("gpu")) return "write true or false without quotes";
  if (
    typeof found === "string" &&
    /(^|\.)(system_packages|python_packages|environment|run|weights|pre_install)$/.test(shape)
  ) {
    return `write it as a list, one item per line starting with "- "`;
  }
  if (
    found !== null &&
    typeof found === "object" &&
    !Array.isArray(found) &&
    /(^|\.)environment$/.test(shape)
  ) {
    return 'write it as a list: "- NAME=value" per line';
  }
  if (typeof found === "number" && shape === "concurrency.max") return "use a whole number such as 4";
  if (typeof found === "string" && /^concurrency\./.test(shape) && /^\d+$/.test(found))
    return "remove the quotes";
  return undefined;
}

function reportUnknownKey(path: KeyPath, problems: ProblemList): void {
  const key = String(path[path.length - 1]);
  const level = shapeOf(path.slice(0, -1));
  const known = KEYS_BY_LEVEL[level] ?? [];
  const where = level === "" ? "at the top level" : `under ${level.replace(/\[\]/g, "")}`;
  const message = `unknown key ${quote(key)} ${where}`;
  if (level === "" && BUILD_KEYS.includes(key)) {
    problems.error(path, message, `"${key}" belongs under build: — indent it below "build:"`, "key");
    return;
  }
  if (level === "build" && TOP_LEVEL_KEYS.includes(key) && key !== "run" && key !== "environment") {
    problems.error(
      path,
      message,
      `"${key}" is a top-level key — move it out of build: (no indentation)`,
      "key",
    );
    return;
  }
  const suggestion = closest(key, known);
  if (suggestion) {
    problems.error(path, message, `did you mean "${suggestion}"?`, "key");
    return;
  }
  // Not a typo of anything kiln knows: perhaps a setting of a newer Cog. Say it is ignored, do not refuse.
  problems.warn(
    path,
    `${message}; kiln ignores it`,
    `known keys ${where}: ${known.join(", ")}`,
    "key",
    "unknown_key",
  );
}
