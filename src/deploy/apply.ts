/**
 * --apply: hands the rendered file to the orchestrator's own tool (`docker stack deploy`, `kubectl
 * apply`), so what is applied is exactly what was written and reviewed.
 */
import { execa } from "execa";
import { KilnError, EXIT_CODES, UsageError } from "../errors.js";
import { dockerStackDeploy, StackDeployError } from "../docker/stack.js";

class ApplyError extends KilnError {
  constructor(message: string, stderr: string) {
    super("deploy_apply_failed", EXIT_CODES.runtime, message, {
      details: stderr.trim().split("\n").filter(Boolean).slice(-15),
    });
  }
}

/** `docker stack deploy`: against DOCKER_HOST's engine, which must be a Swarm manager. */
export async function applySwarm(file: string, stack: string, signal?: AbortSignal): Promise<string> {
  try {
    return await dockerStackDeploy(file, stack, signal ? { signal } : {});
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    if (/not a swarm manager|This node is not a swarm manager/i.test(stderr))
      throw new UsageError(
        "docker stack deploy needs a Swarm manager, and this engine is not one.",
        "Run it on a manager (or point DOCKER_HOST at one); `docker swarm init` makes this engine a one-node Swarm.",
      );
    if (err instanceof StackDeployError) throw new ApplyError(err.message, err.stderr);
    throw err;
  }
}

/** `kubectl apply -f FILE` with the user's current kubeconfig context. */
export async function applyKubernetes(file: string, signal?: AbortSignal): Promise<string> {
  const kubectl = process.env.KILN_KUBECTL ?? "kubectl";
  const r = await execa(kubectl, ["apply", "-f", file], {
    reject: false,
    timeout: 120_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  if (r.exitCode === undefined || (r.failed && /ENOENT/.test(String(r.message))))
    throw new UsageError(
      `--apply needs kubectl, which is not on PATH${process.env.KILN_KUBECTL ? ` (KILN_KUBECTL=${kubectl})` : ""}.`,
      "Install kubectl (Debian: apt-get install kubernetes-client), or drop --apply and run kubectl apply -f on the written file.",
    );
  if (r.failed)
    throw new ApplyError(`kubectl apply -f ${file} failed with exit code ${r.exitCode}.`, String(r.stderr));
  return String(r.stdout);
}
