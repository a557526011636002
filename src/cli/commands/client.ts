import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import type { CommandContext } from "../context.js";
import { progressOption, readCa } from "../flags.js";
import { loadRunnableProject } from "../load-manifest.js";

interface ClientFlags {
  lang?: string;
  output?: string;
  model?: string;
  pin?: string;
  baseUrl?: string;
  acceptBreaking?: boolean;
  check?: boolean;
  force?: boolean;
  caCert?: string;
  remote?: boolean;
  docker: boolean;
  file?: string;
  python: string;
  progress?: ProgressMode;
}

export function registerClient(program: Command, context: () => CommandContext): void {
  program
    .command("client")
    .description("generate a typed client module (TypeScript or Python) for a model")
    .argument(
      "[source]",
      "an image (name:tag, name@sha256:...), a server URL (http://HOST:PORT), owner/name on a /v1 API, or a saved schema.json; default: the project here",
    )
    .option("-l, --lang <lang>", "ts or python (default: from the -o file's extension)")
    .option("-o, --output <file>", "where to write the module (default: stdout)")
    .option("--model <owner/name>", "the model's name in the client and in API calls")
    .option("--pin <version>", "pin this version instead of the source's (image digest or version id)")
    .option("--base-url <url>", "the /v1 API the client calls by default (and where owner/name is looked up)")
    .option("--accept-breaking", "write the file even when the model's interface changed incompatibly")
    .option("--check", "write nothing; exit 9 if the file is not what would be generated now")
    .option("--force", "overwrite an -o file that kiln did not generate")
    .option("--ca-cert <file>", "PEM CA certificate of the image's registry")
    .option("--remote", "read an image's labels from its registry even if it exists locally")
    .option("--no-docker", "for the project: run it on this machine instead of building an image")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .addOption(progressOption())
    .action(async (source: string | undefined, _opts: unknown, command: Command) => {
      const ctx = context();
      const { caCert, file, ...flags } = command.optsWithGlobals<ClientFlags>();
      const ca = caCert ? await readCa(caCert) : undefined;
      const { runClient } = await import("../../session/client.js");
      await runClient(ctx, source, { ...flags, ca, loadProject: () => loadRunnableProject(ctx, file) });
    });
}
