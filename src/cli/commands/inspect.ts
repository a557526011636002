import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { readCa } from "../flags.js";

interface InspectFlags {
  json?: boolean;
  remote?: boolean;
  caCert?: string;
}

export function registerInspect(program: Command, context: () => CommandContext): void {
  program
    .command("inspect")
    .description("show which code, manifest and schema an image holds (local or in a registry)")
    .argument("<image>", "image reference (name:tag or name@sha256:...)")
    .option("--json", "print the labels as JSON")
    .option("--remote", "read from the registry even if the image exists locally")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .action(async (image: string, flags: InspectFlags) => {
      const ca = flags.caCert ? await readCa(flags.caCert) : undefined;
      const { runInspect } = await import("../../publish/inspect.js");
      await runInspect(context(), image, { json: flags.json, remote: flags.remote, ca });
    });
}
