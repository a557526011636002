/**
 * Image references (`registry.example.com:5000/team/model:tag@sha256:...`) parsed and normalised the
 * way Docker does, with errors that say what is wrong with the name.
 */
import { UsageError } from "../errors.js";

export const DOCKER_HUB = "docker.io";
/** The key Docker uses for Docker Hub in config.json `auths` and credential helpers. */
const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

export interface ImageReference {
  /** Registry host[:port], e.g. "127.0.0.1:5001" or "docker.io". */
  registry: string;
  /** Repository path inside the registry, e.g. "team/model" (Docker Hub: "library/ubuntu"). */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
  /** What the user typed. */
  original: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

function invalid(ref: string, why: string): UsageError {
  return new UsageError(
    `Invalid image name "${ref}": ${why}.`,
    "Image names look like registry.example.com/team/model:tag (lowercase letters, digits, and . _ - separators).",
  );
}

export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref === "") throw invalid(input, "it is empty");
  if (ref.length > 255 + 128 + 80) throw invalid(ref.slice(0, 40) + "...", "it is too long");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      throw invalid(ref, `"${digest}" is not a digest (expected sha256:<64 hex digits>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw invalid(ref, `"${tag}" is not a valid tag (letters, digits, _ . -; at most 128)`);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  const first = parts[0] ?? "";
  if (
    parts.length > 1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || /[A-Z]/.test(first))
  ) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw invalid(ref, `"${registry}" is not a registry host[:port]`);
  }
  if (parts.length === 0 || parts.some((p) => p === "")) throw invalid(ref, "it has an empty path component");
  for (const part of parts) {
    if (/[A-Z]/.test(part)) throw invalid(ref, `repository names must be lowercase ("${part}")`);
    if (!COMPONENT.test(part)) throw invalid(ref, `"${part}" is not a valid path component`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (repository.length > 255) throw invalid(ref, "the repository name is longer than 255 characters");
  return { registry, repository, tag, digest, original: ref };
}

/** The name without tag/digest as Docker prints it, e.g. "127.0.0.1:5001/team/model". */
export function repositoryName(ref: ImageReference): string {
  if (ref.registry === DOCKER_HUB) return ref.repository.replace(/^library\//, "");
  return `${ref.registry}/${ref.repository}`;
}

/** name:tag (default tag "latest") — what `docker push` is asked to push. */
export function taggedName(ref: ImageReference): string {
  return `${repositoryName(ref)}:${ref.tag ?? "latest"}`;
}

/** The pinned form users deploy: name@sha256:... */
export function pinnedName(ref: ImageReference, digest: string): string {
  return `${repositoryName(ref)}@${digest}`;
}

/** The key under which credentials for this registry are stored (Docker's own convention). */
export function authKey(registry: string): string {
  return registry === DOCKER_HUB || registry === "index.docker.io" || registry === "registry-1.docker.io"
    ? DOCKER_HUB_AUTH_KEY
    : registry;
}

/** Normalises what a user passes to `kiln login` (may be a URL) to a registry host[:port]. */
export function normalizeRegistry(input: string | undefined): string {
  if (input === undefined || input === "") return DOCKER_HUB;
  let host = input
    .trim()
    .replace(/^https?:\/\//, "")
    .replace(/\/.*$/, "");
  if (host === "index.docker.io" || host === "registry-1.docker.io") host = DOCKER_HUB;
  if (!HOST.test(host)) {
    throw new UsageError(
      `Invalid registry "${input}".`,
      "Give a host with an optional port, e.g. registry.example.com:5000.",
    );
  }
  return host;
}

/** The host Docker talks HTTP to for this registry. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}
