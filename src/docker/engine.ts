/**
 * The connection to the Docker engine. This is the only module that imports dockerode; everything
 * else asks it for a client and gets typed errors (DockerUnavailableError) when the engine is away.
 */
import Docker from "dockerode";
import { DockerUnavailableError } from "../errors.js";
import { connectionOptions, resolveDockerEndpoint, type DockerEndpoint } from "./endpoint.js";

export type DockerClient = Docker;

let cached: { client: Docker; endpoint: DockerEndpoint } | undefined;

/** The engine client for this process (resolved once from DOCKER_HOST / context / default socket). */
export function dockerClient(): { client: Docker; endpoint: DockerEndpoint } {
  if (!cached) {
    const endpoint = resolveDockerEndpoint();
    cached = { client: new Docker(connectionOptions(endpoint)), endpoint };
  }
  return cached;
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  endpoint: DockerEndpoint;
}

/**
 * Checks the engine answers within `timeoutMs` and returns its version. Throws DockerUnavailableError
 * with a hint matched to the failure (no socket, no permission, timeout, ...).
 */
export async function pingDocker(timeoutMs = 3000): Promise<EngineInfo> {
  const { client, endpoint } = dockerClient();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const version = await Promise.race([client.version(), timeout]);
    return { version: version.Version, apiVersion: version.ApiVersion, endpoint };
  } catch (err) {
    throw unavailable(err, endpoint);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps a connection failure to a DockerUnavailableError that says where we looked and what to do. */
export function unavailable(err: unknown, endpoint: DockerEndpoint): DockerUnavailableError {
  if (err instanceof DockerUnavailableError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  const where = `${endpoint.host} (${endpoint.source})`;
  let hint: string | undefined;
  if (code === "ENOENT" || code === "ECONNREFUSED") {
    hint =
      endpoint.source === "default"
        ? "Start the Docker engine (`dockerd`, or `systemctl start docker`); on Debian: apt-get install docker.io. Or set DOCKER_HOST."
        : `Start the engine at ${endpoint.host}, or change ${endpoint.source === "DOCKER_HOST" ? "DOCKER_HOST" : "the docker context"}.`;
  } else if (code === "EACCES" || code === "EPERM") {
    hint =
      "You may not use the Docker socket: run as root or add your user to the `docker` group (then log in again).";
  }
  return new DockerUnavailableError(`Cannot reach the Docker engine at ${where}: ${detail}`, {
    hint,
    cause: err,
  });
}
