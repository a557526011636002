/**
 * kiln deploy: flags -> DeployOptions, the image's labels from its registry -> DeployFacts, render,
 * write (or print), and with --apply hand the file to docker stack deploy / kubectl apply.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseReference } from "../docker/reference.js";
import { factsFromImage, requireDigest } from "../deploy/facts.js";
import { checkName } from "../deploy/names.js";
import {
  checkOptions,
  checkQueueUrl,
  checkPort,
  positiveInteger,
  type DeployOptions,
  type DeployTarget,
} from "../deploy/options.js";
import { renderDeployment } from "../deploy/render.js";
import type { DeployFlags } from "./commands/deploy.js";
import type { CommandContext } from "./context.js";
import { readCa } from "./commands/login.js";

/** Pure: flags -> checked options (the name falls back to the one derived from the image). */
export function deployOptions(target: DeployTarget, flags: DeployFlags, defaultName: string): DeployOptions {
  const replicas = positiveInteger(flags.replicas, "--replicas");
  const queue = flags.queue === undefined ? undefined : checkQueueUrl(flags.queue);
  const autoscaler = flags.autoscaler ?? (queue && target === "kubernetes" ? "keda" : "none");
  return checkOptions({
    name: flags.name === undefined ? defaultName : checkName(flags.name, "--name"),
    replicas,
    namespace: flags.namespace === undefined ? undefined : checkName(flags.namespace, "--namespace"),
    readiness: flags.readiness,
    cpu: flags.cpu,
    memory: flags.memory,
    queue,
    redisImage: flags.redisImage,
    gatewayImage: flags.gatewayImage,
    autoscaler,
    maxReplicas:
      flags.maxReplicas === undefined ? replicas * 4 : positiveInteger(flags.maxReplicas, "--max-replicas"),
    endpointMode: flags.endpointMode,
    publish: checkPort(flags.publish, "--publish"),
    constraints: flags.constraint,
  });
}

export async function runDeploy(
  ctx: CommandContext,
  target: DeployTarget,
  image: string,
  flags: DeployFlags,
): Promise<void> {
  const ref = parseReference(image);
  // The cluster pulls from the registry, so that is where the facts come from.
  const { inspectRemote } = await import("../docker/inspect.js");
  requireDigest(ref);
  const info = await inspectRemote(ref, { ca: flags.caCert ? await readCa(flags.caCert) : undefined });
  const facts = factsFromImage(ref, info);
  const options = deployOptions(target, flags, facts.defaultName);
  const rendered = renderDeployment(target, facts, options);

  let dir = flags.output ? resolve(ctx.cwd, flags.output) : undefined;
  const temporary = !dir && flags.apply ? await mkdtemp(join(tmpdir(), "kiln-deploy-")) : undefined;
  dir ??= temporary;
  try {
    if (!dir) {
      ctx.out.stdout.write(rendered.text);
      return;
    }
    await mkdir(dir, { recursive: true });
    const file = join(dir, rendered.file);
    await writeFile(file, rendered.text);
    if (!temporary) ctx.out.info(`Wrote ${file} (${rendered.objects.join(", ")})`);
    let applied: string | undefined;
    if (flags.apply) {
      const { applyKubernetes, applySwarm } = await import("../deploy/apply.js");
      ctx.out.info(
        target === "swarm" ? `docker stack deploy ${options.name}...` : `kubectl apply -f ${file}...`,
      );
      applied =
        target === "swarm"
          ? await applySwarm(file, options.name, ctx.signal)
          : await applyKubernetes(file, ctx.signal);
      for (const line of applied.split("\n").filter(Boolean)) ctx.out.info(`  ${line}`);
    }
    if (flags.json) {
      ctx.out.json({
        target,
        image: facts.image,
        name: options.name,
        file: temporary ? undefined : file,
        objects: rendered.objects,
        applied: Boolean(flags.apply),
      });
    } else if (!temporary) {
      ctx.out.print(file);
    }
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}
