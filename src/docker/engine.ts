/**
 * The connection to the Docker engine: one client type (api.ts), one ping. Everything else asks here
 * for a client and gets typed errors (DockerUnavailableError) when the engine is away.
 */
import { EngineApi } from "./api.js";
import type { DockerEndpoint } from "./endpoint.js";

export type Engine = EngineApi;

/** A client for the engine DOCKER_HOST / the docker context / the default socket names (read now). */
export function engineClient(): Engine {
  return new EngineApi();
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
export async function pingEngine(timeoutMs = 3000, engine: Engine = engineClient()): Promise<EngineInfo> {
  const version = await engine.version(timeoutMs);
  return { version: version.Version, apiVersion: version.ApiVersion, endpoint: engine.endpoint };
}

/** The engine for running models, or undefined when none answers (predict/serve then run locally). */
export async function connectEngine(
  timeoutMs = 2000,
  engine: Engine = engineClient(),
): Promise<Engine | undefined> {
  try {
    await pingEngine(timeoutMs, engine);
    return engine;
  } catch {
    return undefined;
  }
}
