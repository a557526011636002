import type { Command } from "commander";
import type { ImageLabels } from "../../docker/inspect.js";
import { parseReference } from "../../docker/reference.js";
import type { CommandContext } from "../context.js";
import { readCa } from "../flags.js";

export interface InspectOptions {
  json?: boolean;
  remote?: boolean;
  caCert?: string;
}

export function registerInspect(program: Command, context: () => CommandContext): void {
  program
    .command("inspect")
    .description("show which code, manifest and schema an image holds (local or in a registry)")
    .argument("<image>", "image reference (name:tag or name@sha256:...)")
    .option("--json", "print the labels as JSON")
    .option("--remote", "read from the registry even if the image exists locally")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .action(async (image: string, opts: InspectOptions) => {
      await runInspect(context(), image, opts);
    });
}

/** Local image first (unless --remote); otherwise the registry, reading only manifest and config. */
async function runInspect(ctx: CommandContext, image: string, opts: InspectOptions): Promise<ImageLabels> {
  const ref = parseReference(image);
  // Loaded on use, so that other commands do not pay for the Docker client at start-up.
  const { inspectLocal, inspectRemote } = await import("../../docker/inspect.js");
  const local = opts.remote ? undefined : await inspectLocal(ref);
  const info =
    local ?? (await inspectRemote(ref, { ca: opts.caCert ? await readCa(opts.caCert) : undefined }));
  if (opts.json) {
    ctx.out.json(info);
    return info;
  }
  for (const line of formatInspect(info)) ctx.out.print(line);
  return info;
}

/** Pure: the human summary. */
export function formatInspect(info: ImageLabels): string[] {
  const lines = [`Image:     ${info.image} (${info.source === "local" ? "local engine" : "registry"})`];
  if (info.digest) lines.push(`Digest:    ${info.digest}`);
  if (info.id) lines.push(`Id:        ${info.id}`);
  if (info.created) lines.push(`Created:   ${info.created}`);
  const { cog, oci } = info;
  if (cog.version === undefined && cog.config === undefined && cog.openapiSchema === undefined) {
    lines.push("No run.cog.* labels: this image was not built by kiln or Cog.");
  } else {
    lines.push(`Cog:       ${cog.version ?? "(no run.cog.version)"}`);
    const config = cog.config as
      { build?: { python_version?: string; gpu?: boolean }; predict?: string } | string | undefined;
    if (typeof config === "object" && config !== null) {
      if (config.predict) lines.push(`Predict:   ${config.predict}`);
      if (config.build?.python_version) lines.push(`Python:    ${config.build.python_version}`);
      if (config.build?.gpu !== undefined) lines.push(`GPU:       ${config.build.gpu ? "yes" : "no"}`);
    } else if (typeof config === "string") {
      lines.push("Manifest:  run.cog.config is not valid JSON");
    }
    const inputs = (
      cog.openapiSchema as
        { components?: { schemas?: { Input?: { properties?: Record<string, unknown> } } } } | undefined
    )?.components?.schemas?.Input?.properties;
    if (inputs) lines.push(`Inputs:    ${Object.keys(inputs).join(", ") || "(none)"}`);
  }
  for (const [k, v] of Object.entries(oci)) lines.push(`${`${k}:`.padEnd(11)}${v}`);
  lines.push("(--json prints every label, the full manifest and the OpenAPI schema)");
  return lines;
}
