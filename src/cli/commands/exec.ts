import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerExec(program: Command, _context: () => CommandContext): void {
  program
    .command("exec")
    .description("run a command inside the model's environment with the project mounted at /src")
    .argument("<command...>", "the command and its arguments")
    .option("-e, --env <NAME=value...>", "environment variable (repeatable)")
    .action(() => {
      throw new NotAvailableError("kiln exec");
    });
}
