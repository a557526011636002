/**
 * The I/O half in front of the pure plan: scans the project, reads the files the plan looks at, and
 * renders the Dockerfile. Shared by `kiln build` and `kiln dockerfile`.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { failAt } from "../manifest/positions.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { renderDockerfile } from "./dockerfile.js";
import { createBuildPlan, type BuildPlan, type PlanOptions } from "./plan.js";
import { hostOnlyPaths, scanProject } from "./scan.js";
import type { ProjectFile } from "./weights.js";

export interface PrepareOptions extends Omit<PlanOptions, "caCert" | "compiled"> {
  caCertFile?: string | undefined;
  /** Absolute paths of compiled TS predictor/trainer (from compileTsPredictor). */
  compiled?: { predict?: string | undefined; train?: string | undefined } | undefined;
  /** Extra .dockerignore patterns. */
  extraIgnore?: string[] | undefined;
}

export interface PreparedBuild {
  plan: BuildPlan;
  dockerfile: string;
  files: ProjectFile[];
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export async function prepareBuild(
  manifest: ResolvedManifest,
  options: PrepareOptions = {},
): Promise<PreparedBuild> {
  const root = manifest.root;
  const rel = (p: string | undefined): string | undefined =>
    p ? relative(root, p).split(sep).join("/") : undefined;
  const compiled = { predict: rel(options.compiled?.predict), train: rel(options.compiled?.train) };

  let requirementsText: string | null = null;
  if (manifest.build.pythonRequirements) {
    requirementsText = await readOptional(join(root, manifest.build.pythonRequirements));
    // The parser checked it exists; this is for a file removed since cog.yaml was read.
    if (requirementsText === null)
      failAt(
        manifest,
        ["build", "python_requirements"],
        `${manifest.build.pythonRequirements} does not exist`,
        "Create the file (pip freeze > requirements.txt) or remove python_requirements.",
      );
  }

  // The compiled predictor lives under .kiln/ (never sent otherwise); its source map keeps traces readable.
  const compiledFiles = [compiled.predict, compiled.train].filter((p): p is string => Boolean(p));
  const forceInclude = [
    ...compiledFiles,
    ...compiledFiles.map((p) => `${p}.map`).filter((p) => existsSync(join(root, p))),
  ];
  const language = (manifest.predict ?? manifest.train)?.language === "python" ? "python" : "node";
  const extraIgnore = [...(options.extraIgnore ?? []), ...(await hostOnlyPaths(root, language))];
  const files = await scanProject(root, { forceInclude, extraIgnore });
  const plan = createBuildPlan({
    manifest,
    requirementsText,
    packageJsonText: await readOptional(join(root, "package.json")),
    files,
    options: {
      baseImage: options.baseImage,
      nodeImage: options.nodeImage,
      caCert: Boolean(options.caCertFile),
      compiled,
      weights: options.weights,
    },
  });
  return { plan, dockerfile: renderDockerfile(plan), files };
}
