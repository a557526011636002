import { Option, type Command } from "commander";
import type { InitLanguage } from "../../scaffold/init.js";
import type { CommandContext } from "../context.js";

export function registerInit(program: Command, context: () => CommandContext): void {
  program
    .command("init")
    .description("write a starter cog.yaml, predictor, .dockerignore and CI workflow (never overwrites)")
    .addOption(new Option("--lang <lang>", "predictor language").choices(["ts", "python"]).default("ts"))
    .argument("[dir]", "directory to initialise", ".")
    .action(async (dir: string, opts: { lang: InitLanguage }) => {
      const { runInit } = await import("../../scaffold/init.js");
      await runInit(context(), dir, opts.lang);
    });
}
