/**
 * A small Docker Engine API client for running models (predict/serve/exec): the dozen calls they need,
 * over node:http(s) to the endpoint engine.ts/endpoint.ts resolve. It exists for start-up time:
 * dockerode loads gRPC/protobuf/ssh modules that cost several hundred ms before the first request,
 * which `kiln predict` pays on every run. Builds and pushes keep using dockerode.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { connectionOptions, resolveDockerEndpoint, type DockerEndpoint } from "./endpoint.js";

export class EngineApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ImageInspect {
  Id: string;
  Config: { Labels?: Record<string, string> | null; Cmd?: string[] | null };
}

export interface ContainerInspect {
  Id: string;
  State: { Running: boolean; ExitCode: number };
  Config: { Labels?: Record<string, string> | null };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
}

type Query = Record<string, string | number | boolean | undefined>;

export class EngineApi {
  readonly endpoint: DockerEndpoint;
  private readonly base: RequestOptions;
  private readonly https: boolean;

  constructor(endpoint: DockerEndpoint = resolveDockerEndpoint()) {
    this.endpoint = endpoint;
    const c = connectionOptions(endpoint);
    this.https = c.protocol === "https";
    this.base = c.socketPath
      ? { socketPath: c.socketPath }
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

  info(): Promise<{ Runtimes?: Record<string, unknown> }> {
    return this.json("GET", "/info");
  }

  networks(name: string): Promise<{ Name: string; Driver: string }[]> {
    return this.json("GET", "/networks", { filters: JSON.stringify({ name: [name] }) });
  }

  inspectImage(ref: string): Promise<ImageInspect> {
    return this.json("GET", `/images/${encodeURIComponent(ref)}/json`);
  }

  /** Pulls `ref` and resolves when the engine reports it done (errors arrive inside the stream). */
  async pullImage(ref: string): Promise<void> {
    const res = await this.raw("POST", "/images/create", { fromImage: ref });
    let text = "";
    for await (const chunk of res) text += String(chunk);
    const failed = text
      .split("\n")
      .map((l) => (l.trim() ? (JSON.parse(l) as { error?: string }) : {}))
      .find((m) => m.error);
    if (failed?.error) throw new EngineApiError(500, failed.error);
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

  /** The multiplexed log stream (stdout+stderr), following. */
  logs(id: string): Promise<IncomingMessage> {
    return this.raw("GET", `/containers/${id}/logs`, { follow: 1, stdout: 1, stderr: 1 }, undefined, 0);
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

  /** One request; non-2xx answers become EngineApiError with the engine's message. */
  private raw(
    method: string,
    path: string,
    query?: Query,
    body?: unknown,
    timeoutMs = 60_000,
  ): Promise<IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: RequestOptions = {
      ...this.base,
      method,
      path: qs.size > 0 ? `${path}?${qs}` : path,
      headers: payload
        ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
        : {},
    };
    return new Promise((resolve, reject) => {
      const req = (this.https ? httpsRequest : httpRequest)(options, (res) => {
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
          reject(new EngineApiError(res.statusCode ?? 500, message || `HTTP ${res.statusCode}`));
        });
      });
      if (timeoutMs > 0)
        req.setTimeout(timeoutMs, () =>
          req.destroy(new Error(`no answer from the Docker engine within ${timeoutMs} ms`)),
        );
      req.on("error", reject);
      req.end(payload);
    });
  }
}
