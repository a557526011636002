/**
 * The docker command-line client, used only where BuildKit needs it: builds, and tag/rmi of build output.
 * Everything else talks to the engine through the one API client (api.ts).
 * We need a client that can run BuildKit: one with the buildx plugin, or a client older than 23 where
 * DOCKER_BUILDKIT=1 selects the built-in BuildKit (clients >= 23 without buildx refuse BuildKit).
 * KILN_DOCKER_CLI overrides the search.
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";
import { DockerUnavailableError, UsageError } from "../errors.js";

export type BuildMode = "buildx" | "buildkit-env";

export interface DockerCli {
  path: string;
  mode: BuildMode;
  /** Client version, e.g. "20.10.24+dfsg1" (empty when unknown). */
  version: string;
  /** Environment every invocation needs (DOCKER_BUILDKIT=1 for pre-23 clients). */
  env: Record<string, string>;
  /** Arguments that start a build: ["buildx", "build", "--load"] or ["build"]. */
  buildArgs: string[];
}

/** What probing one candidate binary found. */
export interface CliProbe {
  path: string;
  buildx: boolean;
  version: string | undefined;
}

/** Major version of a client version string ("20.10.24+dfsg1" -> 20); undefined when unparsable. */
export function majorVersion(version: string | undefined): number | undefined {
  const match = /^v?(\d+)\./.exec(version?.trim() ?? "");
  return match ? Number(match[1]) : undefined;
}

/** Picks the first candidate that can build with BuildKit. Pure: probing happens elsewhere. */
export function chooseCli(probes: CliProbe[]): DockerCli | undefined {
  for (const probe of probes) {
    if (probe.buildx) return makeCli(probe.path, "buildx", probe.version ?? "");
    const major = majorVersion(probe.version);
    if (major !== undefined && major < 23) return makeCli(probe.path, "buildkit-env", probe.version ?? "");
  }
  return undefined;
}

function makeCli(path: string, mode: BuildMode, version: string): DockerCli {
  return mode === "buildx"
    ? { path, mode, version, env: {}, buildArgs: ["buildx", "build", "--load"] }
    : { path, mode, version, env: { DOCKER_BUILDKIT: "1" }, buildArgs: ["build"] };
}

/** Every `docker` on PATH, then the usual install locations, without duplicates. */
function candidatePaths(env: Record<string, string | undefined> = process.env): string[] {
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  const paths = [...dirs.map((d) => join(d, "docker")), "/usr/bin/docker", "/usr/local/bin/docker"];
  return [...new Set(paths)].filter((p) => existsSync(p));
}

async function probe(path: string): Promise<CliProbe> {
  const buildx = await execa(path, ["buildx", "version"], { reject: false, timeout: 10_000 });
  const version = await execa(path, ["version", "--format", "{{.Client.Version}}"], {
    reject: false,
    timeout: 10_000,
  });
  // `docker version` exits non-zero when the engine is away but still prints the client version.
  const clientVersion = version.stdout.split("\n")[0]?.trim();
  return { path, buildx: buildx.exitCode === 0, version: clientVersion || undefined };
}

let located: Promise<DockerCli> | undefined;

/** Finds (once per process) the docker CLI kiln builds with. */
export function locateDockerCli(env: Record<string, string | undefined> = process.env): Promise<DockerCli> {
  located ??= locate(env).catch((err: unknown) => {
    located = undefined;
    throw err;
  });
  return located;
}

async function locate(env: Record<string, string | undefined>): Promise<DockerCli> {
  const override = env.KILN_DOCKER_CLI;
  if (override) {
    if (!existsSync(override)) {
      // A bad setting is the user's to fix (exit 2), not a missing engine.
      throw new UsageError(
        `KILN_DOCKER_CLI points at ${override}, which does not exist.`,
        "Set KILN_DOCKER_CLI to the full path of a docker client, or unset it.",
      );
    }
    const found = await probe(override);
    // The user chose this client: trust it, with buildx if it has it, else DOCKER_BUILDKIT=1.
    return makeCli(override, found.buildx ? "buildx" : "buildkit-env", found.version ?? "");
  }
  const probes: CliProbe[] = [];
  for (const path of candidatePaths(env)) {
    const found = await probe(path);
    probes.push(found);
    const cli = chooseCli([found]);
    if (cli) return cli;
  }
  const seen = probes.map((p) => `${p.path} (${p.version ?? "unknown version"}, no buildx)`).join(", ");
  throw new DockerUnavailableError(
    probes.length === 0
      ? "No docker command-line client found."
      : `No docker client here can run BuildKit builds: ${seen}.`,
    {
      hint: "Install the buildx plugin (apt-get install docker-buildx or docker-buildx-plugin), or point KILN_DOCKER_CLI at a client older than 23 (e.g. Debian's /usr/bin/docker).",
    },
  );
}
