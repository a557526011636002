/**
 * What this Docker engine can do for running models: a usable bridge network, an NVIDIA runtime. Each
 * is asked once per client and only when needed: `/info` is the engine's slowest answer (tens of ms on
 * a busy machine), so only a model that wants a GPU waits for it.
 */
import { UsageError } from "../errors.js";
import type { EngineApi } from "./api.js";

const bridges = new WeakMap<EngineApi, Promise<boolean>>();
const nvidias = new WeakMap<EngineApi, Promise<boolean>>();

function once(cache: WeakMap<EngineApi, Promise<boolean>>, docker: EngineApi, probe: () => Promise<boolean>) {
  let answer = cache.get(docker);
  if (!answer) {
    answer = probe();
    cache.set(docker, answer);
  }
  return answer;
}

/** False when dockerd runs with --bridge=none (or KILN_NETWORK=host): containers then use host networking. */
export function bridgeNetwork(docker: EngineApi): Promise<boolean> {
  return once(bridges, docker, async () => {
    const override = process.env["KILN_NETWORK"];
    if (override !== undefined && override !== "" && override !== "host" && override !== "bridge")
      throw new UsageError(
        `KILN_NETWORK=${override} is not a network mode kiln knows.`,
        "Set KILN_NETWORK to host or bridge, or unset it (kiln then uses bridge when the engine has one).",
      );
    if (override === "host") return false;
    if (override === "bridge") return true;
    const networks = await docker.networks("bridge");
    return networks.some((n) => n.Name === "bridge" && n.Driver === "bridge");
  });
}

/** An NVIDIA runtime is registered (`--gpus all` can work). */
export function nvidiaRuntime(docker: EngineApi): Promise<boolean> {
  return once(nvidias, docker, async () =>
    Object.keys((await docker.info()).Runtimes ?? {}).includes("nvidia"),
  );
}
