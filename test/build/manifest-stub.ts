/**
 * A minimal cog.yaml -> ResolvedManifest reader for build tests, used until src/manifest/load.ts
 * (another helper's work) is on main. It trusts its input: fixtures are valid manifests.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parse } from "yaml";
import type { PredictorRef, ResolvedManifest, RunCommand } from "../../src/manifest/types.js";

function ref(raw: unknown): PredictorRef | null {
  if (typeof raw !== "string") return null;
  const [file = "", name = ""] = raw.split(":");
  const language = file.endsWith(".py") ? "python" : file.endsWith(".ts") ? "typescript" : "javascript";
  return { raw, file, name, language };
}

export async function readManifestForTest(root: string): Promise<ResolvedManifest> {
  const file = join(root, "cog.yaml");
  const raw = (parse(await readFile(file, "utf8")) ?? {}) as Record<string, unknown>;
  const b = (raw.build ?? {}) as Record<string, unknown>;
  const run: RunCommand[] = ((b.run ?? []) as unknown[]).map((r) =>
    typeof r === "string"
      ? { command: r, mounts: [] }
      : {
          command: String((r as { command: string }).command),
          mounts: (((r as { mounts?: unknown[] }).mounts ?? []) as { id: string; target?: string }[]).map((m) => ({
            type: "secret" as const,
            id: m.id,
            target: m.target ?? `/run/secrets/${m.id}`,
          })),
        },
  );
  const environment: Record<string, string> = {};
  for (const e of (raw.environment ?? []) as string[]) {
    const i = e.indexOf("=");
    environment[e.slice(0, i)] = e.slice(i + 1);
  }
  return {
    file,
    root: dirname(file),
    build: {
      gpu: Boolean(b.gpu),
      pythonVersion: typeof b.python_version === "string" ? b.python_version : null,
      pythonRequirements: typeof b.python_requirements === "string" ? b.python_requirements : null,
      pythonPackages: (b.python_packages ?? []) as string[],
      systemPackages: (b.system_packages ?? []) as string[],
      run,
      cuda: typeof b.cuda === "string" ? b.cuda : null,
      cudnn: typeof b.cudnn === "string" ? b.cudnn : null,
      nodeVersion: typeof b.node_version === "number" ? b.node_version : 20,
      baseImage: typeof b.base_image === "string" ? b.base_image : null,
    },
    predict: ref(raw.predict),
    train: ref(raw.train),
    image: typeof raw.image === "string" ? raw.image : `kiln-${basename(root)}`,
    imageExplicit: typeof raw.image === "string",
    concurrency: { max: Number((raw.concurrency as { max?: number } | undefined)?.max ?? 1) },
    environment,
    weights: (raw.weights ?? []) as string[],
    raw,
  };
}
