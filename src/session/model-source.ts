/**
 * Getting a running model for predict/serve: an image (given, or built from the project) run as a
 * container, or - with --no-docker or without an engine - the same server started in this process.
 * Either way the caller gets a URL speaking the container API and one `close()` for cleanup.
 */
import type { ProgressMode, RunContext } from "../context.js";
import { DockerUnavailableError, UsageError } from "../errors.js";
import { Activity } from "../prediction/client.js";
import { serverLogEvent } from "../runtime/ready-file.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { ModelContainer } from "../docker/container.js";
import type { ModelImage } from "../docker/image.js";
import type { Engine } from "../docker/engine.js";
import { runsKilnServer } from "../docker/server-command.js";

/** Where the model comes from, as predict and serve share it. */
export interface ModelSourceOptions {
  /** IMAGE argument, if any. */
  image: string | undefined;
  /** false with --no-docker. */
  docker: boolean;
  /** The project's manifest (loaded on demand: an IMAGE needs none). */
  loadProject: () => Promise<ResolvedManifest>;
  progress: ProgressMode;
  /** --base-image / KILN_BASE_IMAGE: replaces the computed base image when building. */
  baseImage?: string | undefined;
  /** --node-image for the build. */
  nodeImage?: string | undefined;
}

export type ModelSource =
  | { kind: "docker"; engine: Engine; image: ModelImage; project: ResolvedManifest | undefined }
  | { kind: "local"; project: ResolvedManifest };

/** Decides where the model runs and prepares it (build, inspect) without starting anything. */
export async function resolveModelSource(ctx: RunContext, opts: ModelSourceOptions): Promise<ModelSource> {
  if (!opts.docker) {
    if (opts.image)
      throw new UsageError(
        "--no-docker runs the project in this directory, not an image",
        "Drop IMAGE, or drop --no-docker.",
      );
    return { kind: "local", project: await opts.loadProject() };
  }
  // The engine's client is loaded only when an engine is used (--no-docker runs without it). The
  // container module, needed once the image is known, loads while the engine answers.
  void import("../docker/container.js").catch(() => undefined);
  const [{ inspectModelImage }, { bridgeNetwork }, { connectEngine, engineClient }] = await Promise.all([
    import("../docker/image.js"),
    import("../docker/capabilities.js"),
    import("../docker/engine.js"),
  ]);
  if (opts.image) {
    // The image is inspected while the engine is pinged, and the engine's network mode asked for the
    // container start that follows: three round trips in the time of one.
    const client = engineClient();
    const inspecting = inspectModelImage(client, opts.image);
    inspecting.catch(() => undefined); // awaited below once the engine answered
    void bridgeNetwork(client).catch(() => undefined); // cached: the start awaits (and reports) it
    if (!(await connectEngine(undefined, client)))
      throw new DockerUnavailableError(`cannot run ${opts.image}: no Docker engine is reachable`);
    return { kind: "docker", engine: client, image: await inspecting, project: undefined };
  }
  const engine = await connectEngine();
  if (!engine) {
    ctx.out.info("No Docker engine reachable: running the model directly on this machine (--no-docker).");
    return { kind: "local", project: await opts.loadProject() };
  }
  const manifest = await opts.loadProject();
  const { buildProjectImage } = await import("./project-image.js");
  const ref = await buildProjectImage(ctx, manifest, {
    progress: opts.progress,
    baseImage: opts.baseImage,
    nodeImage: opts.nodeImage,
  });
  return { kind: "docker", engine, image: await inspectModelImage(engine, ref), project: manifest };
}

export interface ContainerSessionOptions {
  role: "predict" | "train" | "serve";
  env: Record<string, string>;
  hostPort?: number;
  host?: string;
  serverArgs?: string[];
  /** Extra host:container bind mounts. */
  binds?: string[];
  onLog?: (stream: "stdout" | "stderr", text: string) => void;
  note: (line: string) => void;
}

export async function startContainer(
  source: Extract<ModelSource, { kind: "docker" }>,
  opts: ContainerSessionOptions,
): Promise<ModelContainer> {
  const { startModelContainer } = await import("../docker/container.js");
  const project = source.project;
  // Python projects run from the mounted project (edits apply without a rebuild, as with Cog); TS/JS
  // projects run the code compiled into the image, whose node_modules the mount would hide.
  const main = project?.predict ?? project?.train;
  const mount = main?.language === "python" ? project?.root : undefined;
  return startModelContainer(source.engine, {
    image: source.image.id,
    role: opts.role,
    env: opts.env,
    gpu: source.image.gpu || (project?.build.gpu ?? false),
    mountProject: mount,
    binds: opts.binds,
    imageCmd: source.image.cmd,
    // `kiln predict`/`kiln train` send one request, then remove the container.
    oneRequest: opts.role !== "serve",
    ...(opts.hostPort !== undefined ? { hostPort: opts.hostPort } : {}),
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    ...(opts.serverArgs ? { serverArgs: opts.serverArgs } : {}),
    ...(opts.onLog ? { onLog: opts.onLog } : {}),
    onNote: opts.note,
  });
}

/**
 * What ends the wait for READY of a container: kiln's server writes a line when it is ready (and one at
 * error level when setup fails or its worker dies), so those lines wake the waiter. The ready line is
 * the answer itself (`announced`: the server prints it once it listens and its status is READY); an
 * error line is confirmed with one /health-check, which says what failed. The timer is only a fallback
 * (e.g. COG_LOG_LEVEL=error hides the ready line). Other servers (Cog's) are polled, every line of
 * their output cutting the pause short.
 */
export interface Readiness {
  activity: Activity;
  intervalMs: number;
  /** Feed the container's output here, as it arrives. */
  onOutput: (text: string) => void;
  /** True when the last of the server's own events was its ready line. */
  announced: () => boolean;
}

export function readinessOf(image: { cmd: string[] | undefined }): Readiness {
  const activity = new Activity();
  if (!runsKilnServer(image.cmd))
    return { activity, intervalMs: 50, onOutput: () => activity.notify(), announced: () => false };
  let partial = "";
  let last: "ready" | "error" | undefined;
  return {
    activity,
    intervalMs: 250,
    onOutput: (text) => {
      const lines = (partial + text).split("\n");
      // A line without end (a progress bar redrawn with \r) is kept to its last 4 KiB: the server's
      // lines are short, and each chunk must not copy all that came before.
      partial = (lines.pop() ?? "").slice(-4096);
      let woke = false;
      for (const line of lines) {
        const event = serverLogEvent(line);
        if (event === undefined) continue;
        last = event;
        woke = true;
      }
      if (woke) activity.notify();
    },
    announced: () => last === "ready",
  };
}

/**
 * An AbortSignal that fires on Ctrl-C (the context's), on SIGTERM/SIGHUP, and when stdout's reader went
 * away (EPIPE, e.g. `| head -c 4`), until `dispose()`. `brokenPipe()` tells the last case apart: the
 * command then cleans up (the container is removed) and exits quietly.
 */
export function interruptSignal(ctx: RunContext): {
  signal: AbortSignal;
  brokenPipe: () => boolean;
  dispose: () => void;
} {
  const ac = new AbortController();
  let broken = false;
  const fire = (): void => ac.abort(new Error("interrupted"));
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== "EPIPE") return;
    broken = true;
    fire();
  };
  const stdout = ctx.out.stdout as NodeJS.WritableStream & NodeJS.EventEmitter;
  stdout.on("error", onStdoutError);
  if (ctx.signal.aborted) fire();
  ctx.signal.addEventListener("abort", fire, { once: true });
  // main.ts listens to the first SIGINT only; later ones must not kill us before the container is removed.
  const swallow = (): void => undefined;
  process.on("SIGINT", swallow);
  process.on("SIGTERM", fire);
  process.on("SIGHUP", fire);
  return {
    signal: ac.signal,
    brokenPipe: () => broken,
    dispose: () => {
      // Later writes to a closed pipe error too: keep them quiet for the rest of the process.
      if (!broken) stdout.removeListener("error", onStdoutError);
      ctx.signal.removeEventListener("abort", fire);
      process.removeListener("SIGINT", swallow);
      process.removeListener("SIGTERM", fire);
      process.removeListener("SIGHUP", fire);
    },
  };
}
