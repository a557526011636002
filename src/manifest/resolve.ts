/** Defaults: turns a validated cog.yaml into the ResolvedManifest everything downstream uses. */
import { basename } from "node:path";
import type { Checked } from "./rules.js";
import type { ManifestInput } from "./schema.js";
import type { ResolvedManifest, RunCommand } from "./types.js";

const DEFAULT_NODE_VERSION = 20;

export function resolveManifest(
  input: ManifestInput,
  checked: Checked,
  raw: Record<string, unknown>,
  file: string,
  root: string,
): ResolvedManifest {
  const build = input.build ?? {};
  const weights: string[] = [];
  const weightTargets: Record<string, string> = {};
  for (const w of input.weights ?? []) {
    if (typeof w === "string") weights.push(w.trim());
    else if (typeof w.source !== "string")
      continue; // managed (remote) weights: rules.ts warned
    else {
      weights.push(w.source.trim());
      if (w.target) weightTargets[w.source.trim()] = w.target;
    }
  }
  return {
    file,
    root,
    build: {
      gpu: build.gpu ?? false,
      pythonVersion: checked.pythonVersion,
      pythonRequirements: build.python_requirements?.trim() ?? null,
      pythonPackages: build.python_packages ?? [],
      systemPackages: (build.system_packages ?? []).map((p) => p.trim()),
      run: (build.run ?? []).map(toRunCommand),
      cuda: checked.cuda,
      cudnn: checked.cudnn,
      nodeVersion: checked.nodeVersion ?? DEFAULT_NODE_VERSION,
      baseImage: build.base_image ?? null,
      environment: checked.buildEnvironment,
      preInstall: build.pre_install ?? [],
      pythonOverrides: build.python_overrides?.trim() ?? null,
    },
    predict: checked.predict,
    train: checked.train,
    image: input.image ?? defaultImageName(root),
    imageExplicit: input.image !== undefined,
    concurrency: { max: input.concurrency?.max ?? 1 },
    environment: checked.environment,
    weights,
    weightTargets,
    raw,
    cacheable: input.kiln?.cache === true,
  };
}

function toRunCommand(
  item:
    | string
    | {
        command: string;
        mounts?: { type: "secret"; id: string; target?: string | undefined }[] | null | undefined;
      },
): RunCommand {
  if (typeof item === "string") return { command: item, mounts: [] };
  return {
    command: item.command,
    mounts: (item.mounts ?? []).map((m) => ({
      type: "secret",
      id: m.id,
      target: m.target ?? `/run/secrets/${m.id}`,
    })),
  };
}

/** `kiln-<dirname>`, made a valid image name (lowercase, no spaces or odd characters). */
function defaultImageName(root: string): string {
  const dir = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "")
    .replace(/[._-]{2,}/g, "-");
  return dir === "" ? "kiln-model" : `kiln-${dir}`;
}
