import { Option, type Command } from "commander";

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
