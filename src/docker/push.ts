/**
 * Pushes a local image through the engine (the daemon uploads; we pass credentials in X-Registry-Auth)
 * and turns its JSON progress stream into per-layer events and a typed result with the final digest.
 */
import { AuthError, RegistryError } from "../errors.js";
import { engineAuth, type Credentials } from "./credentials.js";
import { EngineApiError } from "./api.js";
import { engineClient } from "./engine.js";
import { pinnedName, repositoryName, type ImageReference } from "./reference.js";

export type LayerState = "preparing" | "waiting" | "pushing" | "pushed" | "exists" | "mounted";

export interface LayerProgress {
  id: string;
  state: LayerState;
  /** Bytes sent so far / total for this layer (compressed), when the engine reports them. */
  current: number;
  total: number | undefined;
}

export interface PushResult {
  image: string;
  digest: string;
  pinned: string;
  size: number | undefined;
  layers: LayerProgress[];
  /** Sum of the sizes of layers actually uploaded (those that were not already in the registry). */
  bytesUploaded: number;
  durationMs: number;
}

interface PushMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface PushOptions {
  credentials?: Credentials | undefined;
  signal?: AbortSignal;
  onLayer?: (layer: LayerProgress) => void;
}

/** Maps one status string of the engine to a layer state, or undefined for non-layer messages. */
export function layerState(status: string): LayerState | undefined {
  if (status === "Preparing") return "preparing";
  if (status === "Waiting") return "waiting";
  if (status === "Pushing") return "pushing";
  if (status === "Pushed") return "pushed";
  if (status === "Layer already exists") return "exists";
  if (status.startsWith("Mounted from")) return "mounted";
  return undefined;
}

export async function pushImage(ref: ImageReference, options: PushOptions = {}): Promise<PushResult> {
  const started = Date.now();
  const engine = engineClient();
  const name = repositoryName(ref);
  const tag = ref.tag ?? "latest";
  const authconfig = engineAuth(ref.registry, options.credentials);
  try {
    await engine.inspectImage(`${name}:${tag}`);
  } catch (err) {
    if (!(err instanceof EngineApiError)) throw err; // the engine is away: DockerUnavailableError
    if (err.statusCode === 404) throw pushFailure(ref, "tag does not exist");
    throw new RegistryError(`The engine cannot inspect ${name}:${tag}: ${err.engineMessage}`, {
      cause: err,
    });
  }
  let stream: NodeJS.ReadableStream;
  try {
    stream = await engine.pushImage(name, tag, authconfig);
  } catch (err) {
    if (!(err instanceof EngineApiError)) throw err;
    if (err.statusCode === 404) {
      throw new RegistryError(`There is no local image ${name}:${tag} to push.`, {
        hint: `Build it first: kiln build -t ${name}:${tag}`,
        cause: err,
      });
    }
    throw new RegistryError(`The engine refused to push ${name}:${tag}: ${err.engineMessage}`, {
      cause: err,
    });
  }

  const layers = new Map<string, LayerProgress>();
  let digest: string | undefined;
  let size: number | undefined;
  let failure: string | undefined;
  const handle = (msg: PushMessage): void => {
    if (msg.error || msg.errorDetail) {
      failure = msg.errorDetail?.message ?? msg.error ?? "unknown error";
      return;
    }
    if (msg.aux?.Digest) {
      digest = msg.aux.Digest;
      size = msg.aux.Size;
      return;
    }
    const state = msg.status ? layerState(msg.status) : undefined;
    if (!state || !msg.id) return;
    const layer = layers.get(msg.id) ?? { id: msg.id, state, current: 0, total: undefined };
    layer.state = state;
    if (state === "pushing") {
      layer.current = msg.progressDetail?.current ?? layer.current;
      layer.total = msg.progressDetail?.total ?? layer.total;
    }
    if (state === "pushed" && layer.total !== undefined) layer.current = layer.total;
    layers.set(msg.id, layer);
    options.onLayer?.({ ...layer });
  };

  // Closing the stream makes the engine cancel the push (it keeps the layers uploaded so far).
  const abort = (): void =>
    (stream as unknown as { destroy(err?: Error): void }).destroy(new Error("interrupted"));
  options.signal?.addEventListener("abort", abort, { once: true });
  await new Promise<void>((resolve, reject) => {
    let pending = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) handle(JSON.parse(line) as PushMessage);
    });
    stream.on("end", () => {
      if (pending.trim()) handle(JSON.parse(pending) as PushMessage);
      resolve();
    });
    stream.on("error", reject);
  })
    .catch((err: unknown) => {
      if (options.signal?.aborted)
        throw new RegistryError(`Push of ${name}:${tag} was interrupted.`, { cause: err });
      throw new RegistryError(`The push of ${name}:${tag} broke off: ${(err as Error).message}`, {
        cause: err,
      });
    })
    .finally(() => options.signal?.removeEventListener("abort", abort));

  if (failure !== undefined) throw pushFailure(ref, failure);
  if (!digest)
    throw new RegistryError(`The engine finished pushing ${name}:${tag} without reporting a digest.`);
  const list = [...layers.values()];
  return {
    image: `${name}:${tag}`,
    digest,
    pinned: pinnedName(ref, digest),
    size,
    layers: list,
    bytesUploaded: list
      .filter((l) => l.state === "pushed")
      .reduce((sum, l) => sum + (l.total ?? l.current), 0),
    durationMs: Date.now() - started,
  };
}

/** Gives the engine's error text a kiln error: auth problems say how to log in. */
export function pushFailure(ref: ImageReference, message: string): RegistryError | AuthError {
  const registry = ref.registry;
  if (/does not exist locally|no such image|tag does not exist/i.test(message)) {
    const name = `${repositoryName(ref)}:${ref.tag ?? "latest"}`;
    return new RegistryError(`There is no local image ${name} to push.`, {
      hint: `Build it first: kiln build -t ${name}`,
    });
  }
  if (/unauthorized|authentication required|no basic auth credentials|denied|401/i.test(message)) {
    return new AuthError(`Registry ${registry} refused the push of ${repositoryName(ref)}: ${message}`, {
      hint: `Log in first: kiln login ${registry} --username <user> --password-stdin`,
    });
  }
  if (/connection refused|no such host|i\/o timeout|dial tcp|EOF|connection reset/i.test(message)) {
    return new RegistryError(`Cannot reach registry ${registry} while pushing: ${message}`, {
      hint: `Check that ${registry} is running and reachable; then run the push again (layers already uploaded are kept).`,
    });
  }
  if (/server gave HTTP response to HTTPS client|certificate|x509/i.test(message)) {
    return new RegistryError(`TLS problem with registry ${registry}: ${message}`, {
      hint: `The Docker engine must trust the registry: put its CA in /etc/docker/certs.d/${registry}/ca.crt, or list it in "insecure-registries" of /etc/docker/daemon.json.`,
    });
  }
  return new RegistryError(`Pushing to ${registry} failed: ${message}`);
}
