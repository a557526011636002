/**
 * The shape of cog.yaml as a zod schema: every key Cog accepts plus kiln's additions. It checks
 * structure (types, unknown keys); rules.ts checks meaning (versions, files, names). The exported
 * JSON Schema (schema/cog.schema.json) is generated from this, so descriptions here reach editors.
 */
import { z } from "zod";

// Cog writes empty lists as `key:` (null); treat null like "not set" rather than a type error.
const list = <T extends z.ZodType>(item: T) => z.array(item).nullable();

/** Versions may be written unquoted (cuda: 11.8); rules.ts reads the source text in that case. */
const version = z.union([z.string(), z.number()]);

const secretMount = z.strictObject({
  type: z.literal("secret").describe("Only BuildKit secret mounts are supported."),
  id: z.string().min(1).describe("The secret's id, given at build time with `kiln build --secret id=...`."),
  target: z
    .string()
    .optional()
    .describe("Where the secret file appears during the command (default /run/secrets/<id>)."),
});

const runCommand = z.union([
  z.string(),
  z.strictObject({
    command: z.string().describe("The shell command."),
    mounts: list(secretMount).optional().describe("BuildKit secret mounts available while the command runs."),
  }),
]);

/** Cog's managed weights (0.2x): fetched from a URI by Cog's tooling; kiln accepts and warns. */
const managedWeights = z.strictObject({
  name: z.string().optional().describe("The weights' name (Cog managed weights)."),
  target: z.string().optional().describe("Where the weights appear in the image."),
  source: z
    .strictObject({
      uri: z.string().describe("Where Cog fetches the weights from (e.g. hf://, s3://, https://)."),
      include: list(z.string()).optional().describe("Globs of files to take from the source."),
      exclude: list(z.string()).optional().describe("Globs of files to leave out."),
    })
    .describe("A remote source; kiln does not fetch it."),
});

const weightSource = z.union([
  z.string(),
  z.strictObject({
    name: z.string().optional().describe("The weights' name (Cog)."),
    source: z.string().describe("Path or glob (relative to cog.yaml) of the weights."),
    target: z.string().optional().describe("Where the weights appear in the image."),
  }),
  managedWeights,
]);

const buildSchema = z
  .strictObject({
    gpu: z.boolean().optional().describe("Use a CUDA base image and run with `--gpus all`. Default false."),
    python_version: version
      .optional()
      .describe('Python version, quoted: "3.10" to "3.13". Required for Python predictors.'),
    python_requirements: z.string().optional().describe("Path to a pip requirements file (must exist)."),
    python_packages: list(z.string())
      .optional()
      .describe("Deprecated: list of pip packages. Use python_requirements.")
      .meta({ deprecated: true }),
    pre_install: list(z.string())
      .optional()
      .describe("Deprecated: commands run before Python packages are installed. Use run.")
      .meta({ deprecated: true }),
    system_packages: list(z.string()).optional().describe("Debian/Ubuntu apt packages to install."),
    run: list(runCommand)
      .optional()
      .describe("Shell commands run during the build, as strings or {command, mounts}."),
    cuda: version
      .optional()
      .describe('CUDA version pin, e.g. "12.1". Default: resolved from torch/tensorflow pins.'),
    cudnn: version.optional().describe('cuDNN version pin, e.g. "8". Default: resolved with cuda.'),
    node_version: z
      .union([z.number(), z.string()])
      .optional()
      .describe("(kiln) Node.js major version for TS/JS predictors. Default 20."),
    base_image: z.string().optional().describe("(kiln) Use this image instead of the computed base image."),
    environment: list(z.string())
      .optional()
      .describe("Environment variables set during the build only, as NAME=value."),
    python_overrides: z
      .string()
      .optional()
      .describe("Path to a pip-style overrides file applied when resolving packages."),
    fast: z
      .boolean()
      .optional()
      .describe("Cog's experimental fast build flag; accepted and ignored by kiln."),
    cog_runtime: z
      .boolean()
      .optional()
      .describe("Cog's alternative runtime flag; accepted and ignored by kiln."),
    sdk_version: version
      .optional()
      .describe(
        "The Cog SDK version Cog installs in the image; kiln ships its own cog package and ignores it.",
      ),
  })
  .nullable();

export const manifestSchema = z
  .strictObject({
    build: buildSchema.optional().describe("How to build the image your model runs in."),
    predict: z
      .string()
      .optional()
      .describe('The predictor: "predict.py:Predictor", "predict.ts:predictor" or "predict.js:predictor".'),
    run: z.string().optional().describe("Alias of predict (Cog's newer name)."),
    train: z.string().optional().describe('The trainer, in the same form as predict, e.g. "train.py:train".'),
    image: z.string().optional().describe("Image name for build and push. Default kiln-<directory name>."),
    concurrency: z
      .strictObject({
        max: z
          .int()
          .min(1)
          .optional()
          .describe("Predictions run at the same time. Default 1; >1 needs an async predictor."),
        default_target: z
          .int()
          .min(1)
          .optional()
          .describe("Autoscaler hint (Cog); kiln records it and does not use it."),
      })
      .nullable()
      .optional(),
    environment: list(z.string())
      .optional()
      .describe("Environment variables for the model at run time, as NAME=value."),
    weights: list(weightSource)
      .optional()
      .describe("(kiln) Paths or globs of model weights, each stored in its own cacheable layer."),
    tests: list(z.unknown()).optional().describe("Cog's test cases; accepted and ignored by kiln."),
    model: z
      .string()
      .optional()
      .describe("Where `cog push` sends the model (e.g. r8.im/owner/name); kiln pushes to image: instead."),
    observability: z
      .unknown()
      .optional()
      .describe("Cog 0.23's telemetry settings; accepted and ignored by kiln."),
    kiln: z
      .strictObject({
        cache: z
          .boolean()
          .optional()
          .describe(
            "The same input to the same version gives the same output, so a server given a store " +
              "(kiln serve --cache) may answer from it. Default false.",
          ),
      })
      .nullable()
      .optional()
      .describe("(kiln) Settings only kiln reads."),
  })
  .describe("cog.yaml: how kiln (and Cog) builds and runs a model.");

export type ManifestInput = z.infer<typeof manifestSchema>;

export const TOP_LEVEL_KEYS = Object.keys(manifestSchema.shape);
export const BUILD_KEYS = Object.keys(buildSchema.unwrap().shape);
