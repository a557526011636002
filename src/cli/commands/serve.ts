import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import type { ServeOptions } from "../../session/serve.js";
import type { CommandContext } from "../context.js";
import { manifestFlag, parsePort, progressOption } from "../flags.js";
import { addImageOptions } from "../image-options.js";
import { loadRunnableProject } from "../load-manifest.js";

export interface ServeFlags {
  port: string;
  host: string;
  uploadUrl?: string;
  apiToken?: string;
  docker: boolean;
  python: string;
  progress: ProgressMode;
  baseImage?: string;
  nodeImage?: string;
}

/** The flags of `serve`; `kiln playground` starts the model the same way and shares them. */
export function addServeFlags(command: Command): Command {
  return addImageOptions(command, "when building: ")
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token on /v1 (also KILN_API_TOKEN)")
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .addOption(progressOption("build progress output"));
}

export function serveOptions(
  ctx: CommandContext,
  image: string | undefined,
  flags: ServeFlags,
  cmd: Command,
): ServeOptions {
  return {
    image,
    docker: flags.docker,
    loadProject: () => loadRunnableProject(ctx, manifestFlag(cmd)),
    progress: flags.progress,
    baseImage: flags.baseImage,
    nodeImage: flags.nodeImage,
    port: parsePort(flags.port),
    host: flags.host,
    uploadUrl: flags.uploadUrl,
    apiToken: flags.apiToken ?? process.env["KILN_API_TOKEN"],
    python: flags.python,
  };
}

export function registerServe(program: Command, context: () => CommandContext): void {
  addServeFlags(program.command("serve"))
    .description("run the model's HTTP server (container API and /v1) until Ctrl-C")
    .action(async (image: string | undefined, flags: ServeFlags, cmd: Command) => {
      const ctx = context();
      const options = serveOptions(ctx, image, flags, cmd);
      const { runServe } = await import("../../session/serve.js");
      await runServe(ctx, options);
    });
}
