/**
 * kiln's one Docker Engine API client: the calls kiln makes (ping, images, containers, push), over
 * node:http(s) to the endpoint endpoint.ts resolves. Hand-written rather than dockerode because
 * dockerode loads gRPC/protobuf/ssh modules that cost several hundred ms before the first request,
 * which `kiln predict` pays on every run. Builds go through the docker CLI (BuildKit), see build.ts.
 * Failures are KilnErrors: no connection is DockerUnavailableError, a refusal is EngineApiError.
 */
import {
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from "node:http";
import type * as Https from "node:https";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import { EXIT_CODES, KilnError } from "../errors.js";
import {
  connectionOptions,
  engineUnavailable,
  resolveDockerEndpoint,
  type DockerEndpoint,
} from "./endpoint.js";

/** The engine answered, but with an error status (no such image, bad request, conflict...): exit 4. */
export class EngineApiError extends KilnError {
  constructor(
    readonly statusCode: number,
    /** The engine's own message, for callers that wrap it in theirs. */
    readonly engineMessage: string,
    endpoint?: DockerEndpoint,
  ) {
    super(
      "docker_engine_error",
      EXIT_CODES.dockerUnavailable,
      endpoint
        ? `The Docker engine at ${endpoint.host} refused the request: ${engineMessage}`
        : engineMessage,
    );
  }
}

export interface ImageInspect {
  Id: string;
  Created?: string;
  Size?: number;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Config: { Labels?: Record<string, string> | null; Cmd?: string[] | null };
  RootFS?: { Layers?: string[] };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Created: number;
  Labels?: Record<string, string> | null;
}

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  Created: number;
}

/** What `POST /images/{name}/push` needs to log in to the registry (sent as X-Registry-Auth). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
}

export interface ContainerInspect {
  Id: string;
  State: { Running: boolean; ExitCode: number };
  Config: { Labels?: Record<string, string> | null; Cmd?: string[] | null };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

type Query = Record<string, string | number | boolean | undefined>;

/** X-Registry-Auth for push and pull alike. */
function registryAuthHeader(auth: RegistryAuth): string {
  // The engine decodes padded URL-safe base64 (Go's base64.URLEncoding), which Node's "base64url" is not.
  return Buffer.from(JSON.stringify(auth)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}
/** Engine list filters: name -> accepted values. */
export type Filters = Record<string, string[]>;

export class EngineApi {
  readonly endpoint: DockerEndpoint;
  /** With `servername` (an agent option node:http passes through; see the constructor). */
  private readonly base: RequestOptions & { servername?: string };
  private readonly request: (
    options: RequestOptions,
    onResponse?: (res: IncomingMessage) => void,
  ) => ClientRequest;

  constructor(endpoint: DockerEndpoint = resolveDockerEndpoint()) {
    this.endpoint = endpoint;
    const c = connectionOptions(endpoint);
    // node:https brings TLS and crypto (several ms of start-up): loaded only for a TLS endpoint.
    this.request =
      c.protocol === "https"
        ? (createRequire(import.meta.url)("node:https") as typeof Https).request
        : httpRequest;
    // Over a socket, the Host header and an empty TLS server name are given: left to node:http, its
    // first request checks "localhost" for an IP address, which compiles net's IPv6 pattern (~6 ms of
    // CPU, on every `kiln predict`).
    this.base = c.socketPath
      ? { socketPath: c.socketPath, servername: "", headers: { host: "localhost" } }
      : {
          host: c.host,
          port: c.port,
          ...(c.ca ? { ca: c.ca } : {}),
          ...(c.cert ? { cert: c.cert } : {}),
          ...(c.key ? { key: c.key } : {}),
        };
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.json("GET", "/_ping", undefined, undefined, timeoutMs);
  }

  version(timeoutMs = 60_000): Promise<{ Version: string; ApiVersion: string }> {
    return this.json("GET", "/version", undefined, undefined, timeoutMs);
  }

  info(): Promise<{ Runtimes?: Record<string, unknown> }> {
    return this.json("GET", "/info");
  }

  networks(name: string): Promise<{ Name: string; Driver: string }[]> {
    return this.json("GET", "/networks", { filters: JSON.stringify({ name: [name] }) });
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.json("GET", `/images/${encodeURIComponent(ref)}/json`);
  }

  /** Images matching the engine's filters, e.g. `{ label: ["kiln.test=1"] }`. */
  listImages(filters: Filters): Promise<ImageSummary[]> {
    return this.json("GET", "/images/json", { filters: JSON.stringify(filters) });
  }

  /** Removes the image (`untagOnly`: just this name, keeping its parent layers). */
  async removeImage(ref: string, untagOnly = false): Promise<void> {
    await this.json(
      "DELETE",
      `/images/${encodeURIComponent(ref)}`,
      untagOnly ? { noprune: 1 } : { force: 1 },
    );
  }

  /** Gives the image `source` the name `target` (repo:tag). */
  async tagImage(source: string, target: string): Promise<void> {
    const colon = target.lastIndexOf(":");
    const hasTag = colon > target.lastIndexOf("/");
    await this.json("POST", `/images/${encodeURIComponent(source)}/tag`, {
      repo: hasTag ? target.slice(0, colon) : target,
      tag: hasTag ? target.slice(colon + 1) : "latest",
    });
  }

  /** The JSON-lines progress stream of a push (errors arrive inside it); no timeout. */
  pushImage(name: string, tag: string, auth: RegistryAuth): Promise<IncomingMessage> {
    return this.raw("POST", `/images/${encodeURIComponent(name)}/push`, { tag }, undefined, 0, {
      "x-registry-auth": registryAuthHeader(auth),
    });
  }

  /**
   * Pulls `ref` and resolves when the engine reports it done (errors arrive inside the stream). With
   * `auth` (the same stored credentials push uses) the engine logs in to the registry first.
   */
  async pullImage(ref: string, auth: RegistryAuth = {}): Promise<void> {
    const res = await this.raw("POST", "/images/create", { fromImage: ref }, undefined, undefined, {
      "x-registry-auth": registryAuthHeader(auth),
    });
    let text = "";
    for await (const chunk of res) text += String(chunk);
    const failed = text
      .split("\n")
      .map((l) => (l.trim() ? (JSON.parse(l) as { error?: string }) : {}))
      .find((m) => m.error);
    if (failed?.error) throw new EngineApiError(500, failed.error, this.endpoint);
  }

  async createContainer(body: Record<string, unknown>): Promise<string> {
    return (await this.json<{ Id: string }>("POST", "/containers/create", undefined, body)).Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.json("POST", `/containers/${id}/start`);
  }

  /** Resolves with the exit status when the container next stops. */
  async waitContainer(id: string): Promise<number> {
    return (
      (
        await this.json<{ StatusCode?: number }>(
          "POST",
          `/containers/${id}/wait`,
          { condition: "next-exit" },
          undefined,
          0,
        )
      ).StatusCode ?? -1
    );
  }

  /**
   * The container's output (stdout+stderr, multiplexed as the log stream is) from now on, straight from
   * the engine's stream rather than its log file: attached before the container starts, nothing the
   * container prints is missed, and no log request follows the start. Resolves once attached.
   */
  attach(id: string): Promise<Readable> {
    const path = `/containers/${id}/attach?stream=1&stdout=1&stderr=1`;
    return new Promise((resolve, reject) => {
      const req = this.request({
        ...this.base,
        method: "POST",
        path,
        headers: { ...this.base.headers, connection: "Upgrade", upgrade: "tcp" },
      });
      // The engine switches protocols (101) and the socket carries the stream; bytes that came with
      // the answer's head belong to it.
      req.on("upgrade", (_res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on("response", (res) => {
        if ((res.statusCode ?? 500) < 300) return resolve(res);
        res.resume();
        reject(new EngineApiError(res.statusCode ?? 500, `attach answered ${res.statusCode}`, this.endpoint));
      });
      req.on("error", (err) => reject(engineUnavailable(err, this.endpoint)));
      req.end();
    });
  }

  /** All containers (running or not) matching the engine's filters. */
  listContainers(filters: Filters): Promise<ContainerSummary[]> {
    return this.json("GET", "/containers/json", { all: 1, filters: JSON.stringify(filters) });
  }

  /** The engine's event log between two instants (epoch seconds), as a JSON-lines stream. */
  events(since: number, until: number, filters: Filters): Promise<IncomingMessage> {
    return this.raw("GET", "/events", { since, until, filters: JSON.stringify(filters) }, undefined, 0);
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.json("GET", `/containers/${id}/json`);
  }

  async stopContainer(id: string, seconds: number): Promise<void> {
    await this.json("POST", `/containers/${id}/stop`, { t: seconds }, undefined, (seconds + 10) * 1000);
  }

  async removeContainer(id: string): Promise<void> {
    await this.json("DELETE", `/containers/${id}`, { force: 1, v: 1 });
  }

  private async json<T>(
    method: string,
    path: string,
    query?: Query,
    body?: unknown,
    timeoutMs = 60_000,
  ): Promise<T> {
    const res = await this.raw(method, path, query, body, timeoutMs);
    let text = "";
    for await (const chunk of res) text += String(chunk);
    return (text && res.headers["content-type"]?.includes("json") ? JSON.parse(text) : text) as T;
  }

  /** One request; non-2xx answers become EngineApiError, transport failures DockerUnavailableError. */
  private raw(
    method: string,
    path: string,
    query?: Query,
    body?: unknown,
    timeoutMs = 60_000,
    extraHeaders: OutgoingHttpHeaders = {},
  ): Promise<IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: RequestOptions = {
      ...this.base,
      method,
      path: qs.size > 0 ? `${path}?${qs}` : path,
      headers: {
        ...this.base.headers,
        ...extraHeaders,
        ...(payload
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
          : {}),
      },
    };
    return new Promise((resolve, reject) => {
      const req = this.request(options, (res) => {
        if ((res.statusCode ?? 500) < 300) return resolve(res);
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => {
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // plain-text error body
          }
          reject(
            new EngineApiError(res.statusCode ?? 500, message || `HTTP ${res.statusCode}`, this.endpoint),
          );
        });
      });
      if (timeoutMs > 0)
        req.setTimeout(timeoutMs, () =>
          req.destroy(new Error(`no answer from the Docker engine within ${timeoutMs} ms`)),
        );
      req.on("error", (err) => reject(engineUnavailable(err, this.endpoint)));
      req.end(payload);
    });
  }
}
