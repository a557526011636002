import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerLogin(program: Command, _context: () => CommandContext): void {
  program
    .command("login")
    .description("store registry credentials the way `docker login` does")
    .argument("[registry]", "registry host, e.g. registry.example.com")
    .option("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password from standard input")
    .action(() => {
      throw new NotAvailableError("kiln login");
    });
}
