import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { readCa } from "../flags.js";

interface LoginFlags {
  username?: string;
  passwordStdin?: boolean;
  caCert?: string;
}

export function registerLogin(program: Command, context: () => CommandContext): void {
  program
    .command("login")
    .description("store registry credentials the way `docker login` does")
    .argument("[registry]", "registry host, e.g. registry.example.com (default: Docker Hub)")
    .option("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password from standard input")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .action(async (registry: string | undefined, flags: LoginFlags) => {
      const ca = flags.caCert ? await readCa(flags.caCert) : undefined;
      const { runLogin } = await import("../../publish/login.js");
      await runLogin(context(), registry, {
        username: flags.username,
        passwordStdin: flags.passwordStdin,
        ca,
      });
    });
}
