/** What this Docker engine can do for running models: a usable bridge network, an NVIDIA runtime. */
import type Dockerode from "dockerode";

export interface EngineCapabilities {
  /** False when dockerd runs with --bridge=none: containers then use host networking. */
  bridge: boolean;
  /** An NVIDIA runtime is registered (`--gpus all` can work). */
  nvidia: boolean;
}

const cache = new WeakMap<Dockerode, Promise<EngineCapabilities>>();

export function engineCapabilities(docker: Dockerode): Promise<EngineCapabilities> {
  let caps = cache.get(docker);
  if (!caps) {
    caps = probe(docker);
    cache.set(docker, caps);
  }
  return caps;
}

async function probe(docker: Dockerode): Promise<EngineCapabilities> {
  const [networks, info] = await Promise.all([
    docker.listNetworks({ filters: { name: ["bridge"] } }),
    docker.info() as Promise<{ Runtimes?: Record<string, unknown> }>,
  ]);
  const override = process.env["KILN_NETWORK"];
  const bridge =
    override === "host" ? false : override === "bridge" ? true : networks.some((n) => n.Name === "bridge" && n.Driver === "bridge");
  return { bridge, nvidia: Object.keys(info.Runtimes ?? {}).includes("nvidia") };
}
