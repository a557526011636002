/**
 * Getting a running model for predict/serve: an image (given, or built from the project) run as a
 * container, or - with --no-docker or without an engine - the same server started in this process.
 * Either way the caller gets a URL speaking the container API and one `close()` for cleanup.
 */
import { DockerUnavailableError, UsageError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { startModelContainer, type ModelContainer } from "../docker/container.js";
import { inspectModelImage, type ModelImage } from "../docker/image.js";
import { connectEngine, type Engine } from "../docker/session.js";
import type { CommandContext } from "../cli/context.js";

/** The flags `predict` and `serve` share for finding the model (their option objects pass as-is). */
export interface ModelSourceFlags {
  /** -f FILE. */
  file?: string | undefined;
  /** false with --no-docker. */
  docker: boolean;
  progress?: string | undefined;
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  /** --node-image for the build. */
  nodeImage?: string | undefined;
}

export interface SessionOptions extends ModelSourceFlags {
  /** IMAGE argument, if any. */
  image: string | undefined;
  /** Notes such as the --no-docker fallback; nothing in --json mode. */
  note: (line: string) => void;
}

export type ModelSource =
  | { kind: "docker"; engine: Engine; image: ModelImage; project: ResolvedManifest | undefined }
  | { kind: "local"; project: ResolvedManifest };

/** Decides where the model runs and prepares it (build, inspect) without starting anything. */
export async function resolveModelSource(ctx: CommandContext, opts: SessionOptions): Promise<ModelSource> {
  if (!opts.docker) {
    if (opts.image)
      throw new UsageError(
        "--no-docker runs the project in this directory, not an image",
        "Drop IMAGE, or drop --no-docker.",
      );
    return { kind: "local", project: await project(ctx, opts) };
  }
  const engine = await connectEngine();
  if (!engine) {
    if (opts.image)
      throw new DockerUnavailableError(`cannot run ${opts.image}: no Docker engine is reachable`);
    opts.note("No Docker engine reachable: running the model directly on this machine (--no-docker).");
    return { kind: "local", project: await project(ctx, opts) };
  }
  if (opts.image)
    return { kind: "docker", engine, image: await inspectModelImage(engine, opts.image), project: undefined };
  const manifest = await project(ctx, opts);
  const { buildProjectImage } = await import("./project-image.js");
  const ref = await buildProjectImage(ctx, manifest, {
    progress: opts.progress ?? "auto",
    baseImage: opts.baseImage,
    nodeImage: opts.nodeImage,
  });
  return { kind: "docker", engine, image: await inspectModelImage(engine, ref), project: manifest };
}

async function project(ctx: CommandContext, opts: SessionOptions): Promise<ResolvedManifest> {
  const { loadManifest } = await import("../manifest/load.js");
  const { manifest, warnings } = await loadManifest({ cwd: ctx.cwd, file: opts.file });
  for (const w of warnings) opts.note(`warning: ${w.file}:${w.line}: ${w.message}`);
  if (!manifest.predict)
    throw new UsageError(
      `${manifest.file} has no \`predict:\` entry`,
      'Add e.g. predict: "predict.py:Predictor".',
    );
  return manifest;
}

export interface ContainerSessionOptions {
  role: "predict" | "serve";
  env: Record<string, string>;
  hostPort?: number;
  host?: string;
  serverArgs?: string[];
  onLog?: (stream: "stdout" | "stderr", text: string) => void;
  note: (line: string) => void;
}

export function startContainer(
  source: Extract<ModelSource, { kind: "docker" }>,
  opts: ContainerSessionOptions,
): Promise<ModelContainer> {
  const project = source.project;
  // Python projects run from the mounted project (edits apply without a rebuild, as with Cog); TS/JS
  // projects run the code compiled into the image, whose node_modules the mount would hide.
  const mount = project?.predict?.language === "python" ? project.root : undefined;
  return startModelContainer(source.engine, {
    image: source.image.id,
    role: opts.role,
    env: opts.env,
    gpu: source.image.gpu || (project?.build.gpu ?? false),
    mountProject: mount,
    imageCmd: source.image.cmd,
    ...(opts.hostPort !== undefined ? { hostPort: opts.hostPort } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.serverArgs ? { serverArgs: opts.serverArgs } : {}),
    ...(opts.onLog ? { onLog: opts.onLog } : {}),
    onNote: opts.note,
  });
}

/** -e NAME=value flags. */
export function parseEnvFlags(flags: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new UsageError(`-e ${JSON.stringify(flag)} is not NAME=value`);
    env[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return env;
}

export function parseSeconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  return n * 1000;
}

/** An AbortSignal that fires on Ctrl-C (the context's) and on SIGTERM/SIGHUP, until `dispose()`. */
export function interruptSignal(ctx: CommandContext): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const fire = (): void => ac.abort(new Error("interrupted"));
  if (ctx.signal.aborted) fire();
  ctx.signal.addEventListener("abort", fire, { once: true });
  // main.ts listens to the first SIGINT only; later ones must not kill us before the container is removed.
  const swallow = (): void => undefined;
  process.on("SIGINT", swallow);
  process.on("SIGTERM", fire);
  process.on("SIGHUP", fire);
  return {
    signal: ac.signal,
    dispose: () => {
      ctx.signal.removeEventListener("abort", fire);
      process.removeListener("SIGINT", swallow);
      process.removeListener("SIGTERM", fire);
      process.removeListener("SIGHUP", fire);
    },
  };
}
