/**
 * BuildKit builds through the docker CLI (the engine API of Docker 20.10 cannot stream a BuildKit
 * session from Node without buildx): `docker build -` fed with our tar context, `--progress plain`
 * lines handed to the caller, plus the few image/container calls the build needs.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { execa } from "execa";
import { DockerUnavailableError, UsageError } from "../errors.js";
import { locateDockerCli, type BuildMode } from "./cli.js";
import { EngineApiError } from "./api.js";
import { engineClient, pingEngine } from "./engine.js";
import { engineUnavailable, resolveDockerEndpoint } from "./endpoint.js";

/** The BuildKit-capable docker CLI (src/docker/cli.ts finds it: buildx, or a pre-23 client with DOCKER_BUILDKIT=1). */
async function dockerCli(): Promise<{
  file: string;
  env: Record<string, string>;
  buildArgs: string[];
  mode: BuildMode;
}> {
  const cli = await locateDockerCli();
  return { file: cli.path, env: cli.env, buildArgs: cli.buildArgs, mode: cli.mode };
}

const UNREACHABLE =
  /Cannot connect to the Docker daemon|error during connect|connect: no such file|connection refused|Is the docker daemon running/i;

/** The docker CLI lost the engine mid-build: the same error (and wording) as api.ts's, with its stderr. */
function unavailable(stderr: string): DockerUnavailableError {
  const failure = engineUnavailable(
    new Error(stderr.trim().split("\n").at(-1) ?? "no answer"),
    resolveDockerEndpoint(),
  );
  return new DockerUnavailableError(failure.message, {
    hint: failure.hint,
    details: stderr.trim().split("\n").slice(-3),
  });
}

/** Fails fast with DockerUnavailableError when no engine answers (or no BuildKit-capable client exists). */
export async function ensureEngine(): Promise<string> {
  // The client first: a bad KILN_DOCKER_CLI is a usage error whatever the engine's state.
  await locateDockerCli();
  const info = await pingEngine(10_000);
  return info.version;
}

/** --cache-to needs buildx; the classic builder (DOCKER_BUILDKIT=1) only reads inline cache. */
export function checkCacheTo(mode: BuildMode, cacheTo: string | undefined, cliPath = "docker"): void {
  if (cacheTo === undefined || mode === "buildx") return;
  throw new UsageError(
    `--cache-to ${cacheTo} needs docker buildx, and ${cliPath} has no buildx plugin.`,
    "Drop --cache-to: `kiln build --push` already stores inline cache in the pushed image, so " +
      "`--cache-from <image>` reuses it. Or install the buildx plugin.",
  );
}

/** Refuses --cache-to early (before the slow parts of a build) when the located client cannot export it. */
export async function assertCacheToSupported(cacheTo: string | undefined): Promise<void> {
  if (cacheTo === undefined) return;
  const { mode, file } = await dockerCli();
  checkCacheTo(mode, cacheTo, file);
}

export interface DockerBuildOptions {
  context: Readable;
  tags: string[];
  labels: Record<string, string>;
  noCache?: boolean;
  /** docker --secret specs: id=NAME,src=FILE | id=NAME,env=VAR. */
  secrets?: string[];
  platform?: string;
  cacheFrom?: string[];
  cacheTo?: string;
  /** Store inline cache metadata in the image (BUILDKIT_INLINE_CACHE=1) so it can serve as --cache-from. */
  inlineCache?: boolean;
  /** Each `--progress plain` line as it arrives. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DockerBuildResult {
  ok: boolean;
  imageId: string | null;
  /** The whole plain-progress log (the caller extracts the failing step). */
  log: string[];
  exitCode: number;
}

export async function dockerBuild(options: DockerBuildOptions): Promise<DockerBuildResult> {
  const { file, env, buildArgs, mode } = await dockerCli();
  checkCacheTo(mode, options.cacheTo, file);
  const dir = await mkdtemp(join(tmpdir(), "kiln-build-"));
  const iidfile = join(dir, "iid");
  const args = [...buildArgs, "-", "--progress", "plain", "--network", "host", "--iidfile", iidfile];
  for (const t of options.tags) args.push("-t", t);
  for (const [k, v] of Object.entries(options.labels)) args.push("--label", `${k}=${v}`);
  if (options.noCache) args.push("--no-cache");
  for (const s of options.secrets ?? []) args.push("--secret", s);
  if (options.platform) args.push("--platform", options.platform);
  for (const c of options.cacheFrom ?? []) args.push("--cache-from", c);
  if (options.cacheTo) args.push("--cache-to", options.cacheTo);
  if (options.inlineCache) args.push("--build-arg", "BUILDKIT_INLINE_CACHE=1");
  const log: string[] = [];
  try {
    const proc = execa(file, args, {
      env,
      input: options.context,
      reject: false,
      all: true,
      buffer: false,
      cancelSignal: options.signal,
    });
    let pending = "";
    proc.all?.setEncoding("utf8");
    proc.all?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        log.push(line);
        options.onLine?.(line);
      }
    });
    const result = await proc;
    if (pending) {
      log.push(pending);
      options.onLine?.(pending);
    }
    const text = log.join("\n");
    if (result.exitCode !== 0 && UNREACHABLE.test(text) && !text.includes("#1 ")) throw unavailable(text);
    const imageId = existsSync(iidfile) ? (await readFile(iidfile, "utf8")).trim() : null;
    return { ok: result.exitCode === 0 && imageId !== null, imageId, log, exitCode: result.exitCode ?? -1 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  layers: string[];
  size: number;
  repoTags: string[];
}

export async function inspectImage(ref: string): Promise<ImageInfo> {
  const img = await engineClient().inspectImage(ref);
  return {
    id: img.Id,
    labels: img.Config.Labels ?? {},
    layers: img.RootFS?.Layers ?? [],
    size: img.Size ?? 0,
    repoTags: img.RepoTags ?? [],
  };
}

/** Runs a one-off container (host network, removed afterwards) and returns its output. */
export async function runOnce(
  image: string,
  command: string[],
  options: {
    entrypoint?: string;
    env?: Record<string, string>;
    signal?: AbortSignal;
    timeoutMs?: number;
  } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { file, env } = await dockerCli();
  const args = ["run", "--rm", "--network", "host", "--label", "kiln.build=1"];
  if (options.entrypoint !== undefined) args.push("--entrypoint", options.entrypoint);
  for (const [k, v] of Object.entries(options.env ?? {})) args.push("-e", `${k}=${v}`);
  const r = await execa(file, [...args, image, ...command], {
    env,
    reject: false,
    cancelSignal: options.signal,
    timeout: options.timeoutMs ?? 300_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function tagImage(source: string, target: string): Promise<void> {
  await engineClient().tagImage(source, target);
}

/** Removes the name `ref` (not the layers other names share); a missing name is not an error. */
export async function removeImage(ref: string): Promise<void> {
  await engineClient()
    .removeImage(ref, true)
    .catch((err: unknown) => {
      if (!(err instanceof EngineApiError)) throw err;
    });
}

/** The local image id of `ref`, or null when the engine does not have it. */
export async function localImageId(ref: string): Promise<string | null> {
  try {
    return (await engineClient().inspectImage(ref)).Id;
  } catch (err) {
    if (err instanceof EngineApiError && err.statusCode === 404) return null;
    throw err;
  }
}

export interface LocalImage {
  id: string;
  repoTags: string[];
  labels: Record<string, string>;
  layers: string[];
}

/** Every local image carrying `label` (a key, or key=value), with its tags, labels and layers. */
export async function imagesWithLabel(label: string): Promise<LocalImage[]> {
  const engine = engineClient();
  const summaries = await engine.listImages({ label: [label] });
  const found: LocalImage[] = [];
  for (const s of summaries) {
    // An image removed between the two calls is simply not there any more.
    const img = await engine.inspectImage(s.Id).catch((err: unknown) => {
      if (err instanceof EngineApiError && err.statusCode === 404) return null;
      throw err;
    });
    if (!img) continue;
    found.push({
      id: img.Id,
      repoTags: img.RepoTags ?? [],
      labels: img.Config.Labels ?? {},
      layers: img.RootFS?.Layers ?? [],
    });
  }
  return found;
}
