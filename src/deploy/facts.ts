/**
 * The facts a deployment is rendered from, read from an image's labels (run.cog.config, the Cog/kiln
 * version, OCI source/revision) plus its pinned name. Pure: the CLI reads the labels through
 * src/docker/inspect.ts and hands them here.
 */
import { UsageError } from "../errors.js";
import type { ImageLabels } from "../docker/inspect.js";
import { repositoryName, type ImageReference } from "../docker/reference.js";
import { nameFromRepository } from "./names.js";

/** Cog's container API port: kiln and Cog servers listen on 5000 unless PORT says otherwise. */
const MODEL_PORT = 5000;
/** How long the kiln server lets in-flight predictions finish after SIGTERM (server.ts default). */
const SERVER_DRAIN_SECONDS = 30;
/** After the drain: webhook flush (5 s) and worker stop; the orchestrator's grace period covers both. */
export const SHUTDOWN_MARGIN_SECONDS = 10;

export interface DeployFacts {
  /** repository@sha256:... — what every replica runs. */
  image: string;
  /** repository without registry-independent suffixes, e.g. 127.0.0.1:5001/team/model. */
  repository: string;
  digest: string;
  /** Default object name, derived from the repository's last component. */
  defaultName: string;
  /** `owner/name` the /v1 API reports (the repository's last two components). */
  model: string;
  /** The /v1 version id: the digest's hex (replicate-style 64 hex digits). */
  version: string;
  /** build.gpu in the image's manifest. */
  gpu: boolean;
  /** concurrency.max in the image's manifest (predictions one replica runs at once). */
  concurrency: number;
  port: number;
  drainSeconds: number;
  cogVersion: string | undefined;
  /** OCI source/revision, carried onto the objects as annotations/labels when present. */
  source: string | undefined;
  revision: string | undefined;
}

interface ManifestSubset {
  build?: { gpu?: unknown };
  concurrency?: { max?: unknown };
}

/** `owner/name` from a repository path: "team/hello" stays, "a/b/hello" -> "b/hello", "hello" -> "kiln/hello". */
function modelName(repository: string): string {
  const parts = repository.split("/");
  return parts.length >= 2 ? parts.slice(-2).join("/") : `kiln/${parts[0] ?? "model"}`;
}

/** The digest `ref` is pinned by; a UsageError for a tag (which can move under a running deployment). */
export function requireDigest(ref: ImageReference): string {
  if (ref.digest) return ref.digest;
  throw new UsageError(
    `${ref.original} is not pinned by digest.`,
    "Deploy exactly what you pushed: kiln push prints NAME@sha256:...; pass that (a tag can move under a running deployment).",
  );
}

/** Pure: labels of `ref` (which must be pinned by digest) -> facts. */
export function factsFromImage(ref: ImageReference, info: ImageLabels): DeployFacts {
  const digest = requireDigest(ref);
  const { cog } = info;
  if (cog.version === undefined && cog.config === undefined) {
    throw new UsageError(
      `${ref.original} has no run.cog.* labels: it was not built by kiln or Cog.`,
      "kiln deploy renders deployments for model images built with `kiln build` / `kiln push` (or Cog).",
    );
  }
  if (typeof cog.config === "string") {
    throw new UsageError(`${ref.original}: the run.cog.config label is not valid JSON.`);
  }
  const manifest = (cog.config ?? {}) as ManifestSubset;
  const max = manifest.concurrency?.max;
  const repository = repositoryName(ref);
  return {
    image: `${repository}@${digest}`,
    repository,
    digest,
    defaultName: nameFromRepository(ref.repository),
    model: modelName(ref.repository),
    version: digest.replace(/^sha256:/, ""),
    gpu: manifest.build?.gpu === true,
    concurrency: typeof max === "number" && Number.isInteger(max) && max > 0 ? max : 1,
    port: MODEL_PORT,
    drainSeconds: SERVER_DRAIN_SECONDS,
    cogVersion: cog.version,
    source: info.oci.source,
    revision: info.oci.revision,
  };
}
