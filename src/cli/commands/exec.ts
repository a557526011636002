import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import type { ExecOptions } from "../../session/exec.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerExec(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("exec"), "when building: ")
    .description("run a command inside the model's environment with the project mounted at /src")
    .argument("<command...>", "the command and its arguments")
    .option("-e, --env <NAME=value>", "environment variable (repeatable)", collect, [])
    .option("--progress <mode>", "build progress: auto, plain, quiet", "auto")
    // Flags kiln does not know belong to the command (`kiln exec python -c ...`); use `--` before a
    // command whose flags clash with kiln's (-e, -f, --debug).
    .allowUnknownOption()
    .action(async (command: string[], _opts: unknown, cmd: Command) => {
      const { runExec } = await import("../../session/exec.js");
      const code = await runExec(context(), command, cmd.optsWithGlobals<ExecOptions>());
      if (code !== 0) process.exitCode = code;
    });
}
