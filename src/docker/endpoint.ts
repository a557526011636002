/**
 * Where the Docker engine is, decided the way the docker CLI decides it: DOCKER_HOST, then the
 * context named by DOCKER_CONTEXT or `currentContext` in the Docker config, then the default socket.
 * Pure apart from reading the config directory, so it is unit-tested with a temporary one.
 */
import type * as Crypto from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DockerUnavailableError } from "../errors.js";

const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

export interface DockerEndpoint {
  /** e.g. unix:///var/run/docker.sock or tcp://10.0.0.2:2376 */
  host: string;
  /** Why this endpoint was chosen, for messages: "DOCKER_HOST", "context foo", "default". */
  source: string;
  /** TLS material (PEM) when the endpoint needs it. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean } | undefined;
}

/** Socket or TCP(+TLS) options for api.ts's node:http(s) requests. */
export interface ConnectionOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

type Env = Record<string, string | undefined>;

/** The Docker config directory: $DOCKER_CONFIG or ~/.docker. */
export function dockerConfigDir(env: Env = process.env): string {
  return env.DOCKER_CONFIG && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(homedir(), ".docker");
}

export function resolveDockerEndpoint(env: Env = process.env): DockerEndpoint {
  const configDir = dockerConfigDir(env);
  if (env.DOCKER_HOST) {
    const verify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== "";
    const certDir = env.DOCKER_CERT_PATH || configDir;
    return { host: env.DOCKER_HOST, source: "DOCKER_HOST", tls: verify ? readTls(certDir, true) : undefined };
  }
  const contextName = env.DOCKER_CONTEXT || currentContext(configDir);
  if (contextName && contextName !== "default") return contextEndpoint(configDir, contextName);
  return { host: DEFAULT_DOCKER_HOST, source: "default" };
}

function currentContext(configDir: string): string | undefined {
  const file = join(configDir, "config.json");
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new DockerUnavailableError(`Cannot read the Docker config ${file}: ${(err as Error).message}`, {
      hint: "Fix or remove that file (it must be JSON), or set DOCKER_HOST.",
      cause: err,
    });
  }
  const value = (parsed as { currentContext?: unknown }).currentContext;
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Contexts live under contexts/meta/<sha256(name)>/meta.json, TLS files under contexts/tls/<same>/docker. */
function contextEndpoint(configDir: string, name: string): DockerEndpoint {
  // node:crypto is loaded only here, for a named context: most runs use DOCKER_HOST or the default socket.
  const { createHash } = createRequire(import.meta.url)("node:crypto") as typeof Crypto;
  const id = createHash("sha256").update(name).digest("hex");
  const metaFile = join(configDir, "contexts", "meta", id, "meta.json");
  const hint = `Run \`docker context ls\` to see the contexts, \`docker context use default\`, or set DOCKER_HOST.`;
  if (!existsSync(metaFile)) {
    throw new DockerUnavailableError(
      `Docker context "${name}" is selected but not defined (${metaFile} is missing).`,
      { hint },
    );
  }
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(metaFile, "utf8")) as typeof meta;
  } catch (err) {
    throw new DockerUnavailableError(`Cannot read Docker context "${name}" (${metaFile}).`, {
      hint,
      cause: err,
    });
  }
  const docker = meta.Endpoints?.docker;
  if (typeof docker?.Host !== "string" || docker.Host === "") {
    throw new DockerUnavailableError(`Docker context "${name}" has no docker endpoint.`, { hint });
  }
  const tlsDir = join(configDir, "contexts", "tls", id, "docker");
  const tls = existsSync(tlsDir) ? readTls(tlsDir, docker.SkipTLSVerify !== true) : undefined;
  return { host: docker.Host, source: `context ${name}`, tls };
}

function readTls(dir: string, verify: boolean): NonNullable<DockerEndpoint["tls"]> {
  const read = (file: string): Buffer | undefined => {
    const path = join(dir, file);
    return existsSync(path) ? readFileSync(path) : undefined;
  };
  return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem"), verify };
}

/** Turns an endpoint into socket or TCP options; unsupported schemes get a clear error. */
export function connectionOptions(endpoint: DockerEndpoint): ConnectionOptions {
  const { host } = endpoint;
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  if (host.startsWith("npipe://")) return { socketPath: host.slice("npipe://".length) };
  if (host.startsWith("tcp://") || host.startsWith("http://") || host.startsWith("https://")) {
    const url = new URL(host.replace(/^tcp:/, "http:"));
    const https = host.startsWith("https://") || endpoint.tls !== undefined;
    const options: ConnectionOptions = {
      host: url.hostname,
      port: url.port ? Number(url.port) : https ? 2376 : 2375,
      protocol: https ? "https" : "http",
    };
    if (endpoint.tls?.ca) options.ca = endpoint.tls.ca;
    if (endpoint.tls?.cert) options.cert = endpoint.tls.cert;
    if (endpoint.tls?.key) options.key = endpoint.tls.key;
    return options;
  }
  throw new DockerUnavailableError(`Unsupported Docker endpoint ${host} (from ${endpoint.source}).`, {
    hint: "kiln talks to unix://, tcp:// and npipe:// endpoints. For ssh://, forward the socket (ssh -L) and set DOCKER_HOST=unix://...",
  });
}

/**
 * The one mapping of a failed connection to the engine (refused, no socket, no permission, timeout,
 * reset) to DockerUnavailableError (exit 4), naming where we looked and what to do.
 */
export function engineUnavailable(err: unknown, endpoint: DockerEndpoint): DockerUnavailableError {
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
