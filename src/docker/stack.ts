/**
 * `docker stack deploy`: Swarm stacks exist only in the docker CLI (the Engine API has services, not
 * stacks), so `kiln deploy swarm --apply` runs it with the same client kiln's builds use.
 */
import { execa } from "execa";
import { locateDockerCli } from "./cli.js";

export class StackDeployError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Deploys (or updates) `stack` from a compose file against DOCKER_HOST's engine; returns its output. */
export async function dockerStackDeploy(
  file: string,
  stack: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string> {
  const cli = await locateDockerCli();
  const r = await execa(cli.path, ["stack", "deploy", "--with-registry-auth", "--prune", "-c", file, stack], {
    env: cli.env,
    reject: false,
    cancelSignal: options.signal,
    timeout: options.timeoutMs ?? 120_000,
  });
  if (r.failed)
    throw new StackDeployError(
      `docker stack deploy ${stack} failed (exit ${r.exitCode ?? "?"})`,
      String(r.stderr),
    );
  return String(r.stdout);
}
