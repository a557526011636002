/**
 * Runs a model image as a kiln-managed container: the right network mode for this engine, GPUs when
 * asked and available, env, an optional project mount, logs streamed to the caller, and one `remove()`
 * that always cleans up (callers run it in `finally`, also on Ctrl-C).
 */
import { hostname } from "node:os";
import { EngineApiError, type EngineApi } from "./api.js";
import { RuntimeStartError, UsageError } from "../errors.js";
import { bridgeNetwork, nvidiaRuntime } from "./capabilities.js";
import { LogDemuxer, LogTail } from "./logs.js";
import { freePort } from "./ports.js";
import { serverCmd } from "./server-command.js";

/** Every container kiln starts carries these labels (plus KILN_CONTAINER_LABELS, e.g. kiln.test=1). */
const KILN_CONTAINER_LABEL = "kiln.container";

export interface ModelContainerOptions {
  image: string;
  /** What the container is for (label value): predict, serve, exec. */
  role: string;
  env?: Record<string, string>;
  /** cog.yaml build.gpu: request all GPUs when the engine has an NVIDIA runtime. */
  gpu?: boolean;
  /** Host directory mounted at /src (the project, for fast iteration). */
  mountProject?: string | undefined;
  /** Further host:container bind mounts (e.g. the output cache's directory). */
  binds?: string[] | undefined;
  /** Port on the host (serve -p); 0 or undefined: a free one. */
  hostPort?: number;
  /** Address the model answers on, on the host. */
  host?: string;
  /** The image's default command; used to pass --host where the server supports it. */
  imageCmd?: string[] | undefined;
  /** Extra flags for kiln's/Cog's server (e.g. --upload-url U). */
  serverArgs?: string[];
  /** It serves one request and is removed (predict, train): kiln's server starts leaner (serverCmd). */
  oneRequest?: boolean;
  /** Container output, as it arrives. */
  onLog?: (stream: "stdout" | "stderr", text: string) => void;
  /** One-line notes for the user (e.g. "no GPU runtime"). */
  onNote?: (line: string) => void;
}

export interface ModelContainer {
  id: string;
  /** http://host:port of the model's HTTP server. */
  url: string;
  port: number;
  network: "host" | "bridge";
  /** Resolves when the container stops, with its exit status. */
  exited: Promise<number>;
  /** The last lines the container printed (for error messages). */
  tail(): string[];
  /** Stops (SIGTERM, then kill after `graceSeconds`) and removes it. Safe to call more than once. */
  remove(graceSeconds?: number): Promise<void>;
}

const CONTAINER_PORT = 5000;

export async function startModelContainer(
  docker: EngineApi,
  opts: ModelContainerOptions,
): Promise<ModelContainer> {
  // Leftovers of a killed kiln go first when they may hold the port asked for; otherwise their removal
  // runs alongside this start (one engine round trip less before READY) and is awaited before returning.
  const staleRemoval = removeStaleContainers(docker, opts.onNote);
  staleRemoval.catch(() => undefined); // awaited below, on every path
  // The engine's facts are asked side by side (each is one round trip): the network mode, and the
  // NVIDIA runtime only for a model that wants a GPU.
  const bridging = bridgeNetwork(docker);
  const gpu = opts.gpu ? nvidiaRuntime(docker) : Promise.resolve(false);
  gpu.catch(() => undefined); // awaited below
  if (opts.hostPort) await staleRemoval;
  const host = opts.host ?? "127.0.0.1";
  const network = (await bridging) ? "bridge" : "host";
  const port = network === "host" ? opts.hostPort || (await freePort(host)) : CONTAINER_PORT;
  const env: Record<string, string> = { ...opts.env };
  if (network === "host") env["PORT"] = String(port);

  const hostConfig: Record<string, unknown> = { NetworkMode: network, Init: false };
  const binds = [...(opts.mountProject ? [`${opts.mountProject}:/src`] : []), ...(opts.binds ?? [])];
  if (binds.length > 0) hostConfig.Binds = binds;
  if (network === "bridge") {
    hostConfig.PortBindings = {
      [`${CONTAINER_PORT}/tcp`]: [{ HostIp: host, HostPort: opts.hostPort ? String(opts.hostPort) : "" }],
    };
  }
  if (opts.gpu) {
    if (await gpu) hostConfig.DeviceRequests = [{ Driver: "", Count: -1, Capabilities: [["gpu"]] }];
    else
      opts.onNote?.(
        "cog.yaml asks for a GPU (build.gpu: true) but this Docker engine has no NVIDIA runtime: running on CPU.",
      );
  }

  const create: Record<string, unknown> = {
    Image: opts.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(opts.role),
    HostConfig: hostConfig,
    ...(network === "bridge" ? { ExposedPorts: { [`${CONTAINER_PORT}/tcp`]: {} } } : {}),
  };
  // With host networking the server would listen on every interface: keep it on loopback when we can.
  const cmd = serverCmd(opts.imageCmd, network === "host" ? ["--host", host] : [], {
    extra: opts.serverArgs ?? [],
    oneRequest: opts.oneRequest ?? false,
  });
  if (cmd) create["Cmd"] = cmd;

  const id = await docker.createContainer(create);
  let removed: Promise<void> | undefined;
  const remove = (graceSeconds = 0): Promise<void> => {
    removed ??= removeContainer(docker, id, graceSeconds);
    return removed;
  };
  const tail = new LogTail(200);
  try {
    // "next-exit": the default condition answers at once for a container that is only created.
    const exited = docker.waitContainer(id).catch(() => -1);
    // Attached before the start, the output arrives from its first byte, as the engine relays it.
    const stream = await docker.attach(id);
    const demux = new LogDemuxer((which, text) => {
      tail.push(text);
      opts.onLog?.(which, text);
    });
    stream.on("data", (chunk: Buffer) => demux.push(chunk));
    stream.on("error", () => undefined);
    await docker.startContainer(id);
    const bound = network === "bridge" ? await publishedPort(docker, id) : port;
    await staleRemoval;
    return {
      id,
      url: `http://${host}:${bound}`,
      port: bound,
      network,
      exited,
      tail: () => tail.lines(),
      remove,
    };
  } catch (err) {
    await remove();
    await staleRemoval.catch(() => undefined);
    throw new RuntimeStartError(`could not start a container from ${opts.image}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export function containerLabels(role: string): Record<string, string> {
  const labels: Record<string, string> = {
    [KILN_CONTAINER_LABEL]: role,
    "kiln.pid": String(process.pid),
    "kiln.host": hostname(),
  };
  for (const pair of (process.env["KILN_CONTAINER_LABELS"] ?? "").split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new UsageError(
        `KILN_CONTAINER_LABELS holds ${JSON.stringify(pair)}, which is not NAME=value.`,
        "Write it as NAME=value[,NAME=value...], e.g. KILN_CONTAINER_LABELS=team=ml,env=dev",
      );
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

async function publishedPort(docker: EngineApi, id: string): Promise<number> {
  const info = await docker.inspectContainer(id);
  const binding = info.NetworkSettings.Ports?.[`${CONTAINER_PORT}/tcp`]?.[0];
  const port = Number(binding?.HostPort);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`port ${CONTAINER_PORT} was not published`);
  return port;
}

async function removeContainer(docker: EngineApi, id: string, graceSeconds: number): Promise<void> {
  if (graceSeconds > 0) {
    try {
      await docker.stopContainer(id, graceSeconds);
    } catch {
      // already stopped, or gone: removal below settles it
    }
  }
  try {
    await docker.removeContainer(id);
  } catch (err) {
    const status = err instanceof EngineApiError ? err.statusCode : undefined;
    // 404: already gone; 409: removal already in progress (AutoRemove or a concurrent call).
    if (status !== 404 && status !== 409) throw err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

/**
 * Containers left behind by a kiln that was killed (SIGKILL, OOM, a closed terminal) before it could
 * remove them: labelled kiln.container, started from this machine (kiln.host) by a kiln process that
 * no longer exists (kiln.pid). Every predict/serve/exec removes them before starting its own.
 */
async function removeStaleContainers(docker: EngineApi, note?: (line: string) => void): Promise<string[]> {
  const here = hostname();
  const list = await docker.listContainers({ label: [KILN_CONTAINER_LABEL, `kiln.host=${here}`] });
  const stale = list.filter((c) => {
    const pid = Number(c.Labels?.["kiln.pid"]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  });
  for (const c of stale) await removeContainer(docker, c.Id, 0);
  if (stale.length > 0)
    note?.(`Removed ${stale.length} container(s) left by an earlier kiln that was killed.`);
  return stale.map((c) => c.Id);
}
