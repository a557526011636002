import { Option, type Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerInit(program: Command, _context: () => CommandContext): void {
  program
    .command("init")
    .description("write a starter cog.yaml, predictor, .dockerignore and CI workflow (never overwrites)")
    .addOption(new Option("--lang <lang>", "predictor language").choices(["ts", "python"]).default("ts"))
    .argument("[dir]", "directory to initialise", ".")
    .action(() => {
      throw new NotAvailableError("kiln init");
    });
}
