import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import type { CommandContext } from "../context.js";
import { collect, manifestFlag, parseEnvFlags, progressOption } from "../flags.js";
import { addImageOptions, type ImageFlags } from "../image-options.js";
import { loadManifestForCommand } from "../load-manifest.js";

interface ExecFlags extends ImageFlags {
  env: string[];
  progress: ProgressMode;
}

export function registerExec(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("exec"), "when building: ")
    .description("run a command inside the model's environment with the project mounted at /src")
    .argument("<command...>", "the command and its arguments")
    .option("-e, --env <NAME=value>", "environment variable (repeatable)", collect, [])
    .addOption(progressOption("build progress output"))
    // Flags kiln does not know belong to the command (`kiln exec python -c ...`); use `--` before a
    // command whose flags clash with kiln's (-e, -f, --debug).
    .allowUnknownOption()
    .action(async (command: string[], flags: ExecFlags, cmd: Command) => {
      const ctx = context();
      const env = parseEnvFlags(flags.env);
      const { runExec } = await import("../../session/exec.js");
      const code = await runExec(ctx, {
        command,
        env,
        loadProject: async () => (await loadManifestForCommand(ctx, manifestFlag(cmd))).manifest,
        progress: flags.progress,
        baseImage: flags.baseImage,
        nodeImage: flags.nodeImage,
      });
      if (code !== 0) process.exitCode = code;
    });
}
