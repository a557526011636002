import type { Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerServe(program: Command, _context: () => CommandContext): void {
  program
    .command("serve")
    .description("run the model's HTTP server (container API and /v1) until Ctrl-C")
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port to listen on", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token on /v1 (also KILN_API_TOKEN)")
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .action(() => {
      throw new NotAvailableError("kiln serve");
    });
}
