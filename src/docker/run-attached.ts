/**
 * `kiln exec`: runs a command in a model image attached to this terminal through the docker CLI
 * (which handles TTYs, resizing, stdin and signal forwarding), and removes the container afterwards
 * even if the CLI is interrupted.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { EngineApi } from "./api.js";
import { DockerUnavailableError } from "../errors.js";
import { bridgeNetwork, nvidiaRuntime } from "./capabilities.js";
import { containerLabels } from "./container.js";

export interface AttachedRunOptions {
  image: string;
  command: string[];
  env: Record<string, string>;
  /** Host directory mounted at /src (and used as the working directory). */
  mountProject?: string | undefined;
  gpu: boolean;
  onNote?: (line: string) => void;
}

/** Returns the command's exit status (docker's own failures are 125-127, as with `docker run`). */
export async function runAttached(docker: EngineApi, opts: AttachedRunOptions): Promise<number> {
  const name = `kiln-exec-${randomBytes(6).toString("hex")}`;
  const args = ["run", "--rm", "--name", name, "-i"];
  if (process.stdin.isTTY && process.stdout.isTTY) args.push("-t");
  if (!(await bridgeNetwork(docker))) args.push("--network", "host");
  for (const [k, v] of Object.entries(containerLabels("exec"))) args.push("--label", `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.env)) args.push("-e", `${k}=${v}`);
  if (opts.mountProject) args.push("-v", `${opts.mountProject}:/src`, "-w", "/src");
  if (opts.gpu) {
    if (await nvidiaRuntime(docker)) args.push("--gpus", "all");
    else
      opts.onNote?.(
        "cog.yaml asks for a GPU (build.gpu: true) but this Docker engine has no NVIDIA runtime: running on CPU.",
      );
  }
  args.push(opts.image, ...opts.command);
  const cli = process.env["KILN_DOCKER_CLI"] ?? "docker";
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(cli, args, { stdio: "inherit" });
      child.once("error", (err) =>
        reject(
          new DockerUnavailableError(`could not run the docker CLI (${cli}): ${err.message}`, { cause: err }),
        ),
      );
      child.once("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : 1)));
    });
  } finally {
    // --rm removes it when the CLI sees the exit; a killed CLI would not, so make sure.
    await docker.removeContainer(name).catch(() => undefined);
  }
}
