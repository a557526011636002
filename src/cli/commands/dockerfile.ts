import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerDockerfile(program: Command, _context: () => CommandContext): void {
  program
    .command("dockerfile")
    .description("print the Dockerfile that `kiln build` would use")
    .option("--context", "also list the build context (files and sizes)")
    .option("--base-image <image>", "use this base image instead of the computed one")
    .action(() => {
      throw new NotAvailableError("kiln dockerfile");
    });
}
