/**
 * kiln deploy: the image's labels from its registry -> DeployFacts, flags -> DeployOptions, render,
 * write (or print), and with --apply hand the file to docker stack deploy / kubectl apply.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { RunContext } from "../context.js";
import { parseReference } from "../docker/reference.js";
import { factsFromImage, requireDigest } from "./facts.js";
import { nameFromRepository } from "./names.js";
import { optionsFromFlags, type DeployFlags, type DeployTarget } from "./options.js";
import { renderDeployment } from "./render.js";

export interface DeployRequest {
  target: DeployTarget;
  image: string;
  flags: DeployFlags;
  /** -o DIR (relative to the working directory); none: print to stdout. */
  output: string | undefined;
  apply: boolean;
  json: boolean;
  /** --ca-cert, already read. */
  ca: Buffer | undefined;
}

export async function runDeploy(ctx: RunContext, req: DeployRequest): Promise<void> {
  const { target, flags } = req;
  const ref = parseReference(req.image);
  requireDigest(ref);
  // Every flag is checked (a usage error, 2) before the registry is asked.
  const options = optionsFromFlags(target, flags, nameFromRepository(ref.repository));
  // The cluster pulls from the registry, so that is where the facts come from.
  const { inspectRemote } = await import("../docker/inspect.js");
  const info = await inspectRemote(ref, { ca: req.ca });
  const facts = factsFromImage(ref, info);
  const rendered = renderDeployment(target, facts, options);

  let dir = req.output ? resolve(ctx.cwd, req.output) : undefined;
  const temporary = !dir && req.apply ? await mkdtemp(join(tmpdir(), "kiln-deploy-")) : undefined;
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
    if (req.apply) {
      const { applyKubernetes, applySwarm } = await import("./apply.js");
      ctx.out.info(
        target === "swarm" ? `docker stack deploy ${options.name}...` : `kubectl apply -f ${file}...`,
      );
      applied =
        target === "swarm"
          ? await applySwarm(file, options.name, ctx.signal)
          : await applyKubernetes(file, ctx.signal);
      for (const line of applied.split("\n").filter(Boolean)) ctx.out.info(`  ${line}`);
    }
    if (req.json) {
      ctx.out.json({
        target,
        image: facts.image,
        name: options.name,
        file: temporary ? undefined : file,
        objects: rendered.objects,
        applied: req.apply,
      });
    } else if (!temporary) {
      ctx.out.print(file);
    }
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}
