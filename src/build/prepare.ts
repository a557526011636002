/**
 * The I/O half in front of the pure plan: scans the project, reads the files the plan looks at, and
 * renders the Dockerfile. Shared by `kiln build` and `kiln dockerfile`.
 */
import { existsSync } from "node:fs";
import { opendir, readFile, stat } from "node:fs/promises";
import { basename, isAbsolute, join, relative, sep } from "node:path";
import { UsageError } from "../errors.js";
import { failAt } from "../manifest/positions.js";
import type { ResolvedManifest } from "../manifest/types.js";
import { renderDockerfile } from "./dockerfile.js";
import {
  createBuildPlan,
  TRAINED_WEIGHTS_DIR,
  type BuildPlan,
  type PlanOptions,
  type TrainedWeights,
} from "./plan.js";
import { hostOnlyPaths, scanProject } from "./scan.js";
import type { ProjectFile } from "./weights.js";

export interface PrepareOptions extends Omit<PlanOptions, "caCert" | "compiled" | "trainedWeights"> {
  /** `kiln build --weights PATH`, as readTrainedWeights found it. */
  trainedWeights?: TrainedWeights | undefined;
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
  const trainedWeights = options.trainedWeights;
  // `kiln train` writes ./weights into the project: as --weights it is in its own layer, not in the code too.
  const inProject = trainedWeights ? relative(root, trainedWeights.source).split(sep).join("/") : "";
  const ownWeights = inProject && !inProject.startsWith("..") && !isAbsolute(inProject) ? [inProject] : [];
  const extraIgnore = [
    ...(options.extraIgnore ?? []),
    ...ownWeights,
    ...(await hostOnlyPaths(root, language)),
  ];
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
      trainedWeights,
    },
  });
  return { plan, dockerfile: renderDockerfile(plan), files };
}

/** Stats `kiln build --weights PATH`: one file, or every file under a directory (in path order). */
export async function readTrainedWeights(source: string): Promise<TrainedWeights> {
  const st = await stat(source).catch(() => null);
  const hint =
    "Give the file `kiln train` wrote (./weights unless -o said otherwise), or a directory of weights.";
  if (!st) throw new UsageError(`--weights ${source} does not exist`, hint);
  const target = `${TRAINED_WEIGHTS_DIR}/${basename(source)}`;
  if (st.isFile()) return { source, target, files: [{ path: "", size: st.size }], bytes: st.size };
  if (!st.isDirectory()) throw new UsageError(`--weights ${source} is neither a file nor a directory`, hint);
  const files: { path: string; size: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const e of await opendir(dir)) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile())
        files.push({ path: relative(source, abs).split(sep).join("/"), size: (await stat(abs)).size });
    }
  };
  await walk(source);
  if (files.length === 0) throw new UsageError(`--weights ${source} is an empty directory`, hint);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { source, target, files, bytes: files.reduce((n, f) => n + f.size, 0) };
}
