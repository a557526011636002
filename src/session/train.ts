/**
 * `kiln train`: Cog's `cog train` on this machine. The model is started exactly as `kiln predict` does
 * (image built from the project, or IMAGE, or --no-docker), the inputs are checked against the
 * trainer's TrainingInput, one POST /trainings runs (logs streamed, Ctrl-C cancels it) and the trained
 * weights are written to one file: `./weights` unless -o names another path, as Cog does.
 */
import { stat, mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { RunContext } from "../context.js";
import { UsageError } from "../errors.js";
import { failAt } from "../manifest/positions.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { PredictResult } from "../prediction/client.js";
import { OutputWriter, type Prediction } from "../prediction/outputs.js";
import { decodeDataUri, extensionFor } from "../schema/media-types.js";
import { hasTrainer, schemaView } from "../schema/view.js";
import { requestWithLogs, runOnModel, throwUnlessSucceeded, type PredictOptions } from "./predict.js";

/** Where the weights go when -o is not given (the name `cog train` uses). */
const DEFAULT_WEIGHTS_PATH = "weights";

export interface TrainOptions extends Omit<PredictOptions, "output"> {
  /** -o PATH: the weights file (a directory, existing or ending in "/", gets the file inside it). */
  output?: string | undefined;
}

/** What a finished `kiln train` wrote (also what `--json` reports under `weights_path`). */
export interface TrainResult {
  /** Absolute path of the weights file, or undefined when the training returned no file. */
  weightsPath: string | undefined;
  training: Prediction;
}

/** Runs one training; undefined when stdout's reader went away first (`kiln train | head`), as predict. */
export async function runTrain(ctx: RunContext, opts: TrainOptions): Promise<TrainResult | undefined> {
  let written: TrainResult | undefined;
  await runOnModel(
    ctx,
    {
      ...opts,
      // A project without `train:` fails here, before any build or container start.
      loadProject: async () => requireTrainer(await opts.loadProject()),
    },
    {
      kind: "train",
      checkSchema: (openapi) => {
        if (hasTrainer(openapi)) return;
        throw new UsageError(
          `${opts.image ?? "this model"} has no trainer: its schema lists no TrainingInput`,
          "Train from a project whose cog.yaml has `train:`, or an image built from one.",
        );
      },
      run: async (url, input, openapi, signal) => {
        const result = await requestWithLogs(ctx, url, { kind: "train", input, signal, json: opts.json });
        written = await writeTraining(ctx, result, opts, openapi);
        throwUnlessSucceeded(result, "training");
      },
    },
  );
  return written;
}

function requireTrainer(manifest: ResolvedManifest): ResolvedManifest {
  if (!manifest.train) {
    failAt(
      manifest,
      ["train"],
      "no `train:` entry: this project has no trainer for `kiln train` to run",
      'add e.g. train: "train.py:train" (a function or a class with a train() method) to cog.yaml',
      "key",
    );
  }
  return manifest;
}

/**
 * The weights file (the output itself when it is a file, else its `weights` field) goes to -o PATH;
 * an object output is printed as JSON with the file replaced by its path; --json prints the training.
 */
async function writeTraining(
  ctx: RunContext,
  result: PredictResult,
  opts: TrainOptions,
  openapi: unknown,
): Promise<TrainResult> {
  const training = result.prediction;
  const output = training.output;
  let weightsPath: string | undefined;
  let shown: unknown = output;
  if (training.status === "succeeded") {
    if (typeof output === "string" && decodeDataUri(output)) {
      weightsPath = await writeWeights(ctx, output, opts.output);
      shown = display(ctx, weightsPath);
    } else if (
      isRecord(output) &&
      typeof output["weights"] === "string" &&
      decodeDataUri(output["weights"])
    ) {
      weightsPath = await writeWeights(ctx, output["weights"], opts.output);
      shown = { ...output, weights: display(ctx, weightsPath) };
    } else {
      ctx.out.warn(
        "the training returned no weights file (expected a file, or an object with a `weights` file), so none was written",
      );
    }
  }
  const fileOnly = weightsPath !== undefined && typeof shown === "string";
  if (opts.json || !fileOnly) {
    // Other files inside an object output keep predict's names (output.<field>.<ext>).
    const writer = new OutputWriter(
      { stdout: ctx.out.stdout, note: (l) => ctx.out.info(l) },
      {
        cwd: ctx.cwd,
        json: opts.json,
        outputSchema: schemaView(openapi, "train").output,
        streamChunks: false,
        documentExtra: ctx.out.warnings ? { warnings: ctx.out.warnings } : undefined,
      },
    );
    await writer.finish({ ...training, output: shown });
  }
  return { weightsPath, training: { ...training, output: shown } };
}

async function writeWeights(ctx: RunContext, dataUri: string, output: string | undefined): Promise<string> {
  const decoded = decodeDataUri(dataUri);
  if (!decoded) throw new Error("not a data URI");
  const target = resolve(ctx.cwd, output ?? DEFAULT_WEIGHTS_PATH);
  const isDir =
    (output !== undefined && /[/\\]$/.test(output)) ||
    (await stat(target).then(
      (s) => s.isDirectory(),
      () => false,
    ));
  // Into a directory: the file's own name when the server sent one, else weights.<ext of its type>.
  const name = decoded.name ?? `${DEFAULT_WEIGHTS_PATH}${extensionFor(decoded.mimeType) ?? ""}`;
  const file = isDir ? join(target, name) : target;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, decoded.bytes);
  ctx.out.info(`Written weights to ${display(ctx, file)}`);
  return file;
}

function display(ctx: RunContext, file: string): string {
  const rel = relative(ctx.cwd, file);
  return rel.startsWith("..") ? file : rel;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
