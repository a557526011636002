import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import type { ServeOptions } from "../serve-run.js";

export function registerServe(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("serve"), "when building: ")
    .description("run the model's HTTP server (container API and /v1) until Ctrl-C")
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port to listen on (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token on /v1 (also KILN_API_TOKEN)")
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .option("--progress <mode>", "build progress: auto, plain, quiet", "auto")
    .option(
      "--exit-on-setup-failure",
      "exit with status 1 when setup() fails (default: keep serving SETUP_FAILED)",
    )
    .action(async (image: string | undefined, _opts: unknown, command: Command) => {
      const { runServe } = await import("../serve-run.js");
      await runServe(context(), image, command.optsWithGlobals<ServeOptions>());
    });
}
