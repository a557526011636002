import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerPush(program: Command, _context: () => CommandContext): void {
  program
    .command("push")
    .description("build and push the image to an OCI registry; prints name@sha256:...")
    .argument("[image]", "destination (default: `image` in cog.yaml)")
    .option("--json", "print a machine-readable result")
    .action(() => {
      throw new NotAvailableError("kiln push");
    });
}
