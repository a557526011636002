/** `kiln inspect`: which code, manifest and schema an image holds (local engine or registry). */
import type { RunContext } from "../context.js";
import { parseReference } from "../docker/reference.js";
import type { ImageLabels } from "../docker/inspect.js";

export interface InspectOptions {
  json?: boolean | undefined;
  remote?: boolean | undefined;
  ca?: Buffer | undefined;
}

/** Local image first (unless `remote`); otherwise the registry, reading only manifest and config. */
export async function runInspect(ctx: RunContext, image: string, opts: InspectOptions): Promise<ImageLabels> {
  const ref = parseReference(image);
  // Loaded on use, so that other commands do not pay for the Docker client at start-up.
  const { inspectImage } = await import("../docker/inspect.js");
  const info = await inspectImage(ref, { remote: opts.remote, ca: opts.ca });
  if (opts.json) ctx.out.json(info);
  else for (const line of formatInspect(info)) ctx.out.print(line);
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
