/**
 * The resolved manifest: cog.yaml after parsing, validation and defaults. Everything downstream
 * (build plan, Dockerfile, runtime, CLI) consumes this type, never raw YAML.
 */

export type PredictorLanguage = "python" | "typescript" | "javascript";

/** `file.py:Class`, `file.ts:name` or `file.js:name`, split and classified. */
export interface PredictorRef {
  /** As written in cog.yaml. */
  raw: string;
  /** Path relative to the project root, forward slashes. */
  file: string;
  /** Class, function or export name. */
  name: string;
  language: PredictorLanguage;
}

export interface BuildSecretMount {
  type: "secret";
  id: string;
  /** Where the secret appears during the RUN (default /run/secrets/<id>). */
  target: string;
}

export interface RunCommand {
  command: string;
  mounts: BuildSecretMount[];
}

export interface ResolvedBuild {
  gpu: boolean;
  /** "3.10".."3.13"; null for TS/JS-only projects. */
  pythonVersion: string | null;
  /** Relative path to the requirements file, or null. */
  pythonRequirements: string | null;
  /** From the deprecated `python_packages` list (kept for compatibility), pinned as written. */
  pythonPackages: string[];
  systemPackages: string[];
  run: RunCommand[];
  /** Explicit pins, or null (then resolved from torch/tensorflow pins by the build plan). */
  cuda: string | null;
  cudnn: string | null;
  /** Node major for TS/JS predictors and the server (default 20). */
  nodeVersion: number;
  /** User-chosen base image (kiln); overrides the computed base. */
  baseImage: string | null;
  /** Build-time-only environment (`build.environment`, Cog), NAME -> value in the order written. */
  environment?: Record<string, string>;
  /** Deprecated `build.pre_install` commands (Cog): run before the Python packages are installed. */
  preInstall?: string[];
  /** Relative path of `build.python_overrides` (Cog), or null. */
  pythonOverrides?: string | null;
}

export interface ResolvedManifest {
  /** Absolute path of the manifest file. */
  file: string;
  /** Absolute path of the project root (the manifest's directory). */
  root: string;
  build: ResolvedBuild;
  predict: PredictorRef | null;
  train: PredictorRef | null;
  /** Image name for build/push: `image:` or `kiln-<dirname>`. */
  image: string;
  /** True when `image:` was set explicitly (push needs a registry-qualified name). */
  imageExplicit: boolean;
  concurrency: { max: number };
  /** NAME -> value, in the order written. */
  environment: Record<string, string>;
  /** Paths/globs relative to the root that hold model weights (kiln). */
  weights: string[];
  /** For Cog-style `weights: [{source, target}]` entries: source -> target path in the image. */
  weightTargets?: Record<string, string>;
  /** The manifest as parsed (plain JSON), stored in the run.cog.config label. */
  raw: Record<string, unknown>;
  /** `kiln: { cache: true }`: the model's outputs may be cached (opt-in; see docs/cache.md). */
  cacheable: boolean;
}
