import { Option, type Command } from "commander";
import type { ProgressMode } from "../context.js";
import type { ModelSourceOptions } from "../session/model-source.js";
import type { CommandContext } from "./context.js";
import { manifestFlag, progressOption } from "./flags.js";
import { loadRunnableProject } from "./load-manifest.js";

/**
 * --base-image and --node-image for every command that may build. Each also reads an environment
 * variable, so an offline or corporate machine can set its images once (CI, air-gapped builders).
 */
export function addImageOptions(command: Command, prefix = ""): Command {
  return command
    .addOption(
      new Option("--base-image <image>", `${prefix}use this base image instead of the computed one`).env(
        "KILN_BASE_IMAGE",
      ),
    )
    .addOption(
      new Option(
        "--node-image <image>",
        `${prefix}image the node binary is copied from (default node:<major>-bookworm-slim)`,
      ).env("KILN_NODE_IMAGE"),
    );
}

/** --base-image and --node-image (addImageOptions), as commander parses them. */
export interface ImageFlags {
  baseImage?: string;
  nodeImage?: string;
}

/** The flags predict and serve share for finding and running the model, as parsed by commander. */
export interface ModelSourceFlags extends ImageFlags {
  docker: boolean;
  python: string;
  progress: ProgressMode;
}

/** --no-docker, --python and --progress: predict and serve run the model the same way. */
export function addModelSourceOptions(command: Command): Command {
  return command
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .addOption(progressOption("build progress output"));
}

/** The session options those flags stand for (the project's manifest is loaded only when needed). */
export function modelSourceOptions(
  ctx: CommandContext,
  image: string | undefined,
  flags: ModelSourceFlags,
  cmd: Command,
): ModelSourceOptions & { python: string } {
  return {
    image,
    docker: flags.docker,
    loadProject: () => loadRunnableProject(ctx, manifestFlag(cmd)),
    progress: flags.progress,
    baseImage: flags.baseImage,
    nodeImage: flags.nodeImage,
    python: flags.python,
  };
}
