/**
 * ResolvedManifest + scanned project -> BuildPlan: every decision about the image (base, Python, Node,
 * dependencies, weights layers, runtime env) made once, as data. Pure: the caller does all file I/O.
 */
import { BuildError, ManifestError, type ManifestProblem } from "../errors.js";
import { formatBytes } from "../format.js";
import { failAt, problemAt, requireEntryPoint } from "../manifest/positions.js";
import type { PredictorRef, ResolvedManifest, RunCommand } from "../manifest/types.js";
import { resolveGpu, type GpuPinSource } from "./cuda.js";
import { findFrameworkPins, type FrameworkPins } from "./pins.js";
import {
  DEFAULT_WEIGHTS_OPTIONS,
  splitWeights,
  type ProjectFile,
  type WeightsGroup,
  type WeightsOptions,
} from "./weights.js";

export type PythonInstall =
  /** The base image already has python3 (python:*-slim, or a user base image). */
  | "base"
  /** Ubuntu 22.04's own python3.10 from apt (GPU images, python_version 3.10). */
  | "apt"
  /** A standalone CPython installed by uv (GPU images, other versions; no deadsnakes PPA). */
  | "uv";

export interface BuildPlan {
  language: "python" | "node";
  baseImage: string;
  baseSource: "computed" | "manifest" | "flag";
  /** The image the node binary (and npm for `npm ci`) comes from. */
  nodeImage: string;
  /** False when the base image is the node image itself. */
  copyNode: boolean;
  python: { version: string; install: PythonInstall } | null;
  gpu: { cuda: string; cudnn: string } | null;
  systemPackages: string[];
  /** Requirements file, relative to the project root. */
  requirements: string | null;
  pythonPackages: string[];
  /** npm ci from the project's lock file, in a stage based on the node image. */
  npm: { lockFile: string } | null;
  run: RunCommand[];
  /** User `environment:` (ENV before build.run, so commands see it). */
  environment: Record<string, string>;
  /** Runtime settings the server reads (src/runtime/config.ts): KILN_PREDICTOR, KILN_TRAIN, COG_MAX_CONCURRENCY. */
  runtimeEnv: Record<string, string>;
  weights: WeightsGroup[];
  /** `kiln build --weights PATH`: trained weights in a layer of their own, named by COG_WEIGHTS. */
  trainedWeights?: TrainedWeights | null | undefined;
  /** Files (relative) that go into the code layer. */
  code: ProjectFile[];
  caCert: boolean;
  /** Things the user should know (undeclared big files moved to weights, untested CUDA...). */
  notes: string[];
}

export interface PlanOptions {
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  caCert?: boolean | undefined;
  /** Compiled TS predictor/trainer, relative to the root (from compileTsPredictor). */
  compiled?: { predict?: string | undefined; train?: string | undefined } | undefined;
  weights?: Partial<WeightsOptions> | undefined;
  /** Trained weights to add (prepareBuild reads them from `kiln build --weights PATH`). */
  trainedWeights?: TrainedWeights | undefined;
}

/** Trained weights (a file or a directory from `kiln train`) baked into a new version of the model. */
export interface TrainedWeights {
  /** Absolute path of the weights file or directory on this machine. */
  source: string;
  /** Where the image holds them; COG_WEIGHTS names this path, so setup(weights) receives it. */
  target: string;
  /** The files, relative to `source` ("" when `source` is a file), in path order. */
  files: { path: string; size: number }[];
  bytes: number;
}

/** The directory of the image that holds trained weights (outside /src, which predict may mount over). */
export const TRAINED_WEIGHTS_DIR = "/kiln/weights";

export interface PlanInputs {
  manifest: ResolvedManifest;
  /** Contents of build.python_requirements (null when none). */
  requirementsText: string | null;
  /** package.json text when present (TS/JS projects). */
  packageJsonText?: string | null | undefined;
  /** The build context after .dockerignore (regular files and symlinks). */
  files: ProjectFile[];
  options?: PlanOptions | undefined;
}

const UV_IMAGE = "ghcr.io/astral-sh/uv:0.8";
export { UV_IMAGE };

export function createBuildPlan(inputs: PlanInputs): BuildPlan {
  const { manifest } = inputs;
  const options = inputs.options ?? {};
  const b = manifest.build;
  requireEntryPoint(manifest);
  const main = (manifest.predict ?? manifest.train) as PredictorRef;
  const language = main.language === "python" ? "python" : "node";
  // The parser enforces this for cog.yaml files; a manifest built in memory gets the same answer.
  if (language === "python" && !b.pythonVersion)
    failAt(
      manifest,
      ["build", "python_version"],
      "python_version is required for a Python predictor",
      'add python_version: "3.12" under build:',
      "key",
    );

  const notes: string[] = [];
  if (b.pythonRequirements && !listsPackages(inputs.requirementsText)) {
    // A starter project's requirements file holds only comments: no pip step (the base may lack pip).
    notes.push(`${b.pythonRequirements} lists no packages: skipping pip install`);
  }
  const pins = findFrameworkPins(inputs.requirementsText, b.pythonPackages);
  let gpu: BuildPlan["gpu"] = null;
  let computed: string;
  if (b.gpu) {
    const result = resolveGpu({
      cuda: b.cuda,
      cudnn: b.cudnn,
      torch: pins.torch?.version ?? null,
      torchCuda: pins.torchCuda?.version ?? null,
      tensorflow: pins.tensorflow?.version ?? null,
    });
    if (!result.ok) {
      throw new ManifestError(
        result.problems.map((p) => gpuProblem(inputs, pins, p.source, p.message, p.hint)),
      );
    }
    gpu = { cuda: result.value.cuda, cudnn: result.value.cudnn };
    notes.push(...result.value.notes);
    computed = result.value.image;
  } else if (language === "python") computed = `python:${b.pythonVersion}-slim-bookworm`;
  else computed = `node:${b.nodeVersion}-bookworm-slim`;

  const baseImage = options.baseImage ?? b.baseImage ?? computed;
  const baseSource = options.baseImage ? "flag" : b.baseImage ? "manifest" : "computed";
  const nodeImage = options.nodeImage ?? `node:${b.nodeVersion}-bookworm-slim`;

  let python: BuildPlan["python"] = null;
  if (language === "python" && b.pythonVersion) {
    let install: PythonInstall = "base";
    if (baseSource === "computed" && gpu) install = b.pythonVersion === "3.10" ? "apt" : "uv";
    python = { version: b.pythonVersion, install };
  }

  const paths = new Set(inputs.files.map((f) => f.path));
  let npm: BuildPlan["npm"] = null;
  if (language === "node") {
    const lockFile = ["package-lock.json", "npm-shrinkwrap.json"].find((f) => paths.has(f));
    if (lockFile && paths.has("package.json")) npm = { lockFile };
    else if (inputs.packageJsonText && hasDependencies(inputs.packageJsonText)) {
      throw new BuildError("package.json lists dependencies but the project has no package-lock.json", {
        hint: "Run `npm install` to create package-lock.json: the image installs exactly the locked versions with `npm ci`.",
      });
    }
  }

  const runtimeEnv: Record<string, string> = {};
  const target = (ref: typeof main, compiled: string | undefined): string =>
    `${ref.language === "python" ? ref.file : (compiled ?? defaultCompiledPath(ref.file))}:${ref.name}`;
  if (manifest.predict) runtimeEnv.KILN_PREDICTOR = target(manifest.predict, options.compiled?.predict);
  if (manifest.train) runtimeEnv.KILN_TRAIN = target(manifest.train, options.compiled?.train);
  const trained = options.trainedWeights;
  if (trained) {
    runtimeEnv.COG_WEIGHTS = trained.target;
    if (manifest.environment.COG_WEIGHTS !== undefined)
      notes.push(`--weights replaces COG_WEIGHTS=${manifest.environment.COG_WEIGHTS} from cog.yaml`);
  }
  if (manifest.concurrency.max > 1) runtimeEnv.COG_MAX_CONCURRENCY = String(manifest.concurrency.max);

  // Files the code layer needs even when large: the manifest, dependency lists, predictor sources.
  const keep = new Set<string>(["cog.yaml", "package.json", "package-lock.json"]);
  for (const p of [b.pythonRequirements, manifest.predict?.file, manifest.train?.file]) if (p) keep.add(p);
  const split = splitWeights(
    inputs.files,
    manifest.weights,
    { ...DEFAULT_WEIGHTS_OPTIONS, ...options.weights },
    keep,
  );
  for (const u of split.undeclared) {
    notes.push(
      `${u.path} (${formatBytes(u.size)}) is not listed under weights: but is large; it goes into its own weights layer. Add it to weights: in cog.yaml to silence this note.`,
    );
  }
  let code = split.code;
  // node_modules come from `npm ci` in the image, never from the host (native addons, platform).
  if (npm) code = code.filter((f) => f.path !== "node_modules" && !f.path.startsWith("node_modules/"));

  return {
    language,
    baseImage,
    baseSource,
    nodeImage,
    copyNode: baseImage !== nodeImage,
    python,
    gpu,
    systemPackages: [...b.systemPackages],
    requirements: listsPackages(inputs.requirementsText) ? b.pythonRequirements : null,
    pythonPackages: [...b.pythonPackages],
    npm,
    run: b.run.map((r) => ({ command: r.command, mounts: r.mounts.map((m) => ({ ...m })) })),
    environment: { ...manifest.environment },
    runtimeEnv,
    weights: split.groups,
    trainedWeights: trained ?? null,
    code,
    caCert: Boolean(options.caCert),
    notes,
  };
}

/** Where compileTsPredictor writes predict.ts: .kiln/predict.mjs (src/a.ts -> .kiln/src__a.mjs). */
export function defaultCompiledPath(file: string): string {
  return `.kiln/${file.replace(/\.[cm]?[jt]s$/, "").replace(/\//g, "__")}.mjs`;
}

function hasDependencies(packageJson: string): boolean {
  try {
    const pkg = JSON.parse(packageJson) as { dependencies?: Record<string, string> };
    return Object.keys(pkg.dependencies ?? {}).length > 0;
  } catch {
    return false;
  }
}

function gpuProblem(
  inputs: PlanInputs,
  pins: FrameworkPins,
  source: GpuPinSource,
  message: string,
  hint?: string,
): ManifestProblem {
  const { manifest } = inputs;
  const pin =
    source === "torch" ? (pins.torchCuda ?? pins.torch) : source === "tensorflow" ? pins.tensorflow : null;
  if (pin && pin.line > 0 && manifest.build.pythonRequirements) {
    return {
      file: manifest.build.pythonRequirements,
      line: pin.line,
      column: 1,
      path: "",
      message,
      hint,
      severity: "error",
    };
  }
  const key = source === "cuda" || source === "cudnn" ? source : "python_packages";
  return problemAt(manifest, ["build", key], message, { hint, at: "key" });
}

/** True when a requirements file has at least one line that is neither blank nor a comment. */
function listsPackages(text: string | null): boolean {
  return (
    text !== null && text.split(/\r?\n/).some((line) => line.trim() !== "" && !line.trim().startsWith("#"))
  );
}
