import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerInspect(program: Command, _context: () => CommandContext): void {
  program
    .command("inspect")
    .description("show which code, manifest and schema an image holds (local or in a registry)")
    .argument("<image>", "image reference")
    .option("--json", "print the labels as JSON")
    .action(() => {
      throw new NotAvailableError("kiln inspect");
    });
}
