import type { Command } from "commander";
import type { ProgressMode } from "../../context.js";
import type { CommandContext } from "../context.js";
import { manifestFlag, parsePort, progressOption } from "../flags.js";
import { addImageOptions } from "../image-options.js";
import { loadRunnableProject } from "../load-manifest.js";
import { addQueueOptions, modelNameFromImage, queueEnv, type QueueFlags } from "../queue-options.js";

interface ServeFlags extends QueueFlags {
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

export function registerServe(program: Command, context: () => CommandContext): void {
  addQueueOptions(addImageOptions(program.command("serve"), "when building: "))
    .description("run the model's HTTP server (container API and /v1) until Ctrl-C")
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token on /v1 (also KILN_API_TOKEN)")
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .addOption(progressOption("build progress output"))
    .action(async (image: string | undefined, flags: ServeFlags, cmd: Command) => {
      const ctx = context();
      const port = parsePort(flags.port);
      const { runServe } = await import("../../session/serve.js");
      await runServe(ctx, {
        image,
        docker: flags.docker,
        loadProject: () => loadRunnableProject(ctx, manifestFlag(cmd)),
        progress: flags.progress,
        baseImage: flags.baseImage,
        nodeImage: flags.nodeImage,
        port,
        host: flags.host,
        uploadUrl: flags.uploadUrl,
        apiToken: flags.apiToken ?? process.env["KILN_API_TOKEN"],
        python: flags.python,
        queueEnv: queueEnv(flags, image ? modelNameFromImage(image) : undefined),
      });
    });
}
