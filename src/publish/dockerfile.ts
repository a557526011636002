/** `kiln dockerfile`: the Dockerfile `kiln build` would use, and with `context` the files it would send. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { findRuntimeBundle } from "../build/bundle.js";
import { listContext } from "../build/context.js";
import { defaultCompiledPath } from "../build/plan.js";
import { prepareBuild, readTrainedWeights } from "../build/prepare.js";
import type { RunContext } from "../context.js";
import { formatBytes } from "../format.js";
import type { PredictorRef, ResolvedManifest } from "../manifest/types.js";

export interface DockerfileOptions {
  manifest: ResolvedManifest;
  /** Also list the build context (files and sizes). */
  context?: boolean | undefined;
  baseImage?: string | undefined;
  nodeImage?: string | undefined;
  caCert?: string | undefined;
  /** --weights PATH, as `kiln build --weights` would add them. */
  weights?: string | undefined;
}

export async function showDockerfile(ctx: RunContext, opts: DockerfileOptions): Promise<void> {
  const { manifest } = opts;
  // TS predictors compile to a fixed path; list it when a previous build or run produced it.
  const compiledOf = (ref: PredictorRef | null): string | undefined => {
    if (!ref || ref.language === "python") return undefined;
    const abs = join(manifest.root, defaultCompiledPath(ref.file));
    return existsSync(abs) ? abs : undefined;
  };
  const prepared = await prepareBuild(manifest, {
    baseImage: opts.baseImage,
    nodeImage: opts.nodeImage,
    caCertFile: opts.caCert,
    compiled: { predict: compiledOf(manifest.predict), train: compiledOf(manifest.train) },
    trainedWeights:
      opts.weights === undefined ? undefined : await readTrainedWeights(resolve(ctx.cwd, opts.weights)),
  });
  ctx.out.print(prepared.dockerfile.trimEnd());
  for (const note of prepared.plan.notes) ctx.out.warn(note);
  if (!opts.context) return;
  let bundle: string | null = null;
  try {
    bundle = findRuntimeBundle();
  } catch {
    ctx.out.warn(
      "kiln's runtime bundle is not built (npm run build): kiln/runtime/ is left out of this listing",
    );
  }
  const entries = await listContext({
    root: manifest.root,
    plan: prepared.plan,
    dockerfile: prepared.dockerfile,
    runtimeBundle: bundle,
    caCertFile: opts.caCert,
  });
  const files = entries.filter((e) => e.type !== "directory");
  const total = files.reduce((n, e) => n + e.size, 0);
  ctx.out.print("");
  ctx.out.print(`# build context: ${files.length} files, ${formatBytes(total)}`);
  const width = Math.max(...files.map((e) => formatBytes(e.size).length));
  for (const e of files) {
    const size = e.type === "symlink" ? `-> ${e.linkname ?? ""}` : formatBytes(e.size).padStart(width);
    ctx.out.print(`${size}  ${e.name}`);
  }
}
