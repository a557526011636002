/** What this Docker engine can do for running models: a usable bridge network, an NVIDIA runtime. */
import type { EngineApi } from "./api.js";

export interface EngineCapabilities {
  /** False when dockerd runs with --bridge=none: containers then use host networking. */
  bridge: boolean;
  /** An NVIDIA runtime is registered (`--gpus all` can work). */
  nvidia: boolean;
}

const cache = new WeakMap<EngineApi, Promise<EngineCapabilities>>();

export function engineCapabilities(docker: EngineApi): Promise<EngineCapabilities> {
  let caps = cache.get(docker);
  if (!caps) {
    caps = probe(docker);
    cache.set(docker, caps);
  }
  return caps;
}

async function probe(docker: EngineApi): Promise<EngineCapabilities> {
  const [networks, info] = await Promise.all([docker.networks("bridge"), docker.info()]);
  const override = process.env["KILN_NETWORK"];
  const bridge =
    override === "host"
      ? false
      : override === "bridge"
        ? true
        : networks.some((n) => n.Name === "bridge" && n.Driver === "bridge");
  return { bridge, nvidia: Object.keys(info.Runtimes ?? {}).includes("nvidia") };
}
