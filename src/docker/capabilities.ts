/** What this Docker engine can do for running models: a usable bridge network, an NVIDIA runtime. */
import { UsageError } from "../errors.js";
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
  if (override !== undefined && override !== "" && override !== "host" && override !== "bridge")
    throw new UsageError(
      `KILN_NETWORK=${override} is not a network mode kiln knows.`,
      "Set KILN_NETWORK to host or bridge, or unset it (kiln then uses bridge when the engine has one).",
    );
  const bridge =
    override === "host"
      ? false
      : override === "bridge"
        ? true
        : networks.some((n) => n.Name === "bridge" && n.Driver === "bridge");
  return { bridge, nvidia: Object.keys(info.Runtimes ?? {}).includes("nvidia") };
}
