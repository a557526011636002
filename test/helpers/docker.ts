/**
 * What integration tests share about the Docker test environment that scripts/test-env.sh provides:
 * base image names, registry addresses and credentials, the label on everything tests create, and
 * cleanup. Tests needing Docker call `await requireDocker()` in beforeAll: it throws (never skips).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { locateDockerCli } from "../../src/docker/cli.js";
import { execDocker } from "./docker-cli.js";
import { engineClient, pingEngine } from "../../src/docker/engine.js";

/** Offline base images built by scripts/test-env.sh (no image can be pulled in tests). */
export const BASE_IMAGES = {
  /** debootstrap --variant=minbase bookworm + ca-certificates, tini (/usr/bin/tini), libstdc++6. */
  bookworm: "kiln-test/bookworm",
  /** bookworm + the host's node binary at /usr/local/bin/node. */
  node: "kiln-test/node",
  /** kiln-test/node + the host's npm (/usr/local/bin/npm): for projects with a lock file (`npm ci`). */
  nodeNpm: "kiln-test/node-npm",
  /** bookworm + Debian's python3 (3.11). */
  python: "kiln-test/python",
} as const;

/** Open registry (no auth), distribution 2.8. */
export const REGISTRY = process.env.KILN_TEST_REGISTRY ?? "127.0.0.1:5001";
/** Registry with htpasswd (Basic) auth; user/password below. */
export const AUTH_REGISTRY = process.env.KILN_TEST_AUTH_REGISTRY ?? "127.0.0.1:5002";
export const AUTH_USER = "kiln-test";
export const AUTH_PASSWORD = "kiln-test-password";

/** Each registry keeps config.yml, data/ (blob store), registry.log and pid in <dir>/<port>/. */
export const REGISTRY_DIR = process.env.KILN_TEST_REGISTRY_DIR ?? "/tmp/kiln-test-registry";
export function registryPaths(address: string): { data: string; log: string; config: string } {
  const port = address.split(":").pop() ?? "";
  const dir = join(REGISTRY_DIR, port);
  return { data: join(dir, "data"), log: join(dir, "registry.log"), config: join(dir, "config.yml") };
}

/** Put this label on every container and image a test creates (`--label kiln.test=1`). */
export const TEST_LABEL_KEY = "kiln.test";
export const TEST_LABEL_VALUE = "1";
export const TEST_LABEL = `${TEST_LABEL_KEY}=${TEST_LABEL_VALUE}`;

const PROVISION_HINT = "Provision with `bash scripts/test-env.sh` (as root), see docs/testing.md.";

/**
 * Fails (throws) unless the engine answers and the given base images exist. Never skips: a test run
 * without Docker must be red, in CI (CI=true) and locally alike.
 */
export async function requireDocker(images: string[] = Object.values(BASE_IMAGES)): Promise<void> {
  try {
    await pingEngine(5000);
  } catch (err) {
    const ci = process.env.CI === "true" ? " (CI=true: integration tests must not be skipped)" : "";
    throw new Error(
      `Docker is required for integration tests${ci}: ${(err as Error).message}. ${PROVISION_HINT}`,
      {
        cause: err,
      },
    );
  }
  const client = engineClient();
  const missing: string[] = [];
  for (const image of images) {
    try {
      await client.inspectImage(image);
    } catch {
      missing.push(image);
    }
  }
  if (missing.length > 0)
    throw new Error(`Missing test base image(s): ${missing.join(", ")}. ${PROVISION_HINT}`);
}

/** Fails unless the registry answers GET /v2/ (200 for the open one, 401 for the auth one). */
export async function requireRegistry(address: string = REGISTRY): Promise<void> {
  let status: number;
  try {
    status = (await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(3000) })).status;
  } catch (err) {
    throw new Error(
      `Test registry ${address} does not answer: ${(err as Error).message}. ${PROVISION_HINT}`,
      { cause: err },
    );
  }
  if (status !== 200 && status !== 401)
    throw new Error(`Test registry ${address} answered /v2/ with HTTP ${status}.`);
}

/** A unique image name for one test, e.g. kiln-test/tmp-smoke-1a2b3c. */
export function uniqueImageName(purpose: string): string {
  return `kiln-test/tmp-${purpose}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export interface LabelledContainer {
  id: string;
  names: string[];
  image: string;
  state: string;
  created: number;
}

/** Containers carrying kiln.test=1, optionally only those created at/after `since` (epoch seconds). */
export async function labelledContainers(since = 0): Promise<LabelledContainer[]> {
  const list = await engineClient().listContainers({ label: [TEST_LABEL] });
  return list
    .filter((c) => c.Created >= since)
    .map((c) => ({ id: c.Id, names: c.Names, image: c.Image, state: c.State, created: c.Created }));
}

/** Force-removes the labelled containers created at/after `since`; returns their ids. */
export async function removeTestContainers(since = 0): Promise<string[]> {
  const client = engineClient();
  const found = await labelledContainers(since);
  for (const c of found) await client.removeContainer(c.id).catch(() => undefined);
  return found.map((c) => c.id);
}

/** Removes the given image references (tags); missing ones are ignored. */
export async function removeImages(refs: string[]): Promise<void> {
  const client = engineClient();
  for (const ref of refs) await client.removeImage(ref).catch(() => undefined);
}

/**
 * Removes images labelled kiln.test=1 created at/after `since` (epoch seconds). Base images never carry
 * that label, so they survive; pass `since` to leave other concurrent runs' images alone.
 */
export async function removeTestImages(since = 0): Promise<string[]> {
  const client = engineClient();
  const images = await client.listImages({ label: [TEST_LABEL] });
  const removed: string[] = [];
  for (const image of images.filter((i) => i.Created >= since)) {
    const refs = image.RepoTags?.filter((t) => t !== "<none>:<none>") ?? [];
    if (
      refs.some(
        (r) => r.startsWith("kiln-test/") && Object.values(BASE_IMAGES).some((b) => r.startsWith(`${b}:`)),
      )
    )
      continue;
    for (const ref of refs.length > 0 ? refs : [image.Id]) {
      await client.removeImage(ref).catch(() => undefined);
    }
    removed.push(image.Id);
  }
  return removed;
}

/**
 * Builds `dockerfile` (with extra files) into `tag` through kiln's own docker CLI path (BuildKit, host
 * network), labelled kiln.test=1. Returns the image id.
 */
export async function buildTestImage(
  tag: string,
  dockerfile: string,
  files: Record<string, string | Buffer> = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-test-build-"));
  try {
    await writeFile(join(dir, "Dockerfile"), dockerfile);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const cli = await locateDockerCli();
    await execDocker([...cli.buildArgs, "--network", "host", "--label", TEST_LABEL, "-t", tag, dir], { cli });
    const { stdout } = await execDocker(["image", "inspect", "--format", "{{.Id}}", tag], { cli });
    return stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
