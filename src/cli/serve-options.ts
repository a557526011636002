/** The flags of `kiln serve`; `kiln playground` starts the model the same way and shares them. */
import type { Command } from "commander";
import type { ServeOptions } from "../session/serve.js";
import type { CommandContext } from "./context.js";
import { parsePort } from "./flags.js";
import {
  addImageOptions,
  addModelSourceOptions,
  modelSourceOptions,
  type ModelSourceFlags,
} from "./image-options.js";
import { addQueueOptions, modelNameFromImage, queueEnv, type QueueFlags } from "./queue-options.js";

export interface ServeFlags extends ModelSourceFlags, QueueFlags {
  port: string;
  host: string;
  uploadUrl?: string;
  apiToken?: string;
  exitOnSetupFailure?: boolean;
  cache?: boolean | string;
}

export function addServeFlags(command: Command): Command {
  return addQueueOptions(addModelSourceOptions(addImageOptions(command, "when building: ")))
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token on /v1 (also KILN_API_TOKEN)")
    .option(
      "--exit-on-setup-failure",
      "exit with status 1 when setup() fails (default: keep serving SETUP_FAILED, as Cog does)",
    )
    .option(
      "--cache [dir]",
      "answer repeated inputs from an output cache (model must declare kiln: {cache: true}); default .kiln/output-cache",
    );
}

export async function serveOptions(
  ctx: CommandContext,
  image: string | undefined,
  flags: ServeFlags,
  cmd: Command,
): Promise<ServeOptions> {
  return {
    ...modelSourceOptions(ctx, image, flags, cmd),
    port: parsePort(flags.port),
    host: flags.host,
    uploadUrl: flags.uploadUrl,
    apiToken: flags.apiToken ?? process.env["KILN_API_TOKEN"],
    queueEnv: await queueEnv(flags, image ? modelNameFromImage(image) : undefined),
    exitOnSetupFailure: flags.exitOnSetupFailure,
    cache: flags.cache,
  };
}
