/**
 * `kiln playground`: starts the model as `kiln serve` does, plus the webhook inspector's receiver, and
 * opens the browser playground at URL/playground (or prints the URL: --no-open, CI, no terminal).
 */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import type { ServeOptions } from "../serve-run.js";
import { UsageError } from "../../errors.js";

interface PlaygroundOptions extends ServeOptions {
  open: boolean;
  webhookPort: string;
}

function openBrowser(url: string, ctx: CommandContext): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  const child = spawn(cmd, args, { detached: true, stdio: "ignore" });
  child.on("error", () => ctx.out.info(`Could not start a browser (${cmd}): open ${url} yourself.`));
  child.unref();
}

export function registerPlayground(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("playground"), "when building: ")
    .description("run the model and open its browser playground: form, live output, compare, history, code")
    .argument("[image]", "an existing image to serve instead of building the project")
    .option("-p, --port <port>", "port of the model's server (0: any free port)", "5000")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--upload-url <url>", "PUT file outputs here instead of returning data URIs")
    .option("--api-token <token>", "require this bearer token (the page asks for it; also KILN_API_TOKEN)")
    .option("--no-docker", "run the model directly on this machine instead of in Docker")
    .option("--python <path>", "python interpreter for --no-docker Python predictors", "python3")
    .option("--progress <mode>", "build progress: auto, plain, quiet", "auto")
    .option("--webhook-port <port>", "port of the webhook inspector's receiver (0: any free port)", "0")
    .option("--no-open", "print the playground's URL instead of opening a browser")
    .action(async (image: string | undefined, _opts: unknown, command: Command) => {
      const ctx = context();
      const opts = command.optsWithGlobals<PlaygroundOptions>();
      const webhookPort = Number(opts.webhookPort);
      if (!Number.isInteger(webhookPort) || webhookPort < 0 || webhookPort > 65535)
        throw new UsageError(
          `--webhook-port must be a port number (0-65535), got ${JSON.stringify(opts.webhookPort)}`,
        );
      const [{ runServe }, { startWebhookReceiver }] = await Promise.all([
        import("../serve-run.js"),
        import("../../playground/receiver.js"),
      ]);
      const receiver = await startWebhookReceiver({ host: "127.0.0.1", port: webhookPort });
      try {
        await runServe(ctx, image, opts, {
          onReady: (url) => {
            const page = `${url}/playground?webhooks=${encodeURIComponent(receiver.url)}`;
            ctx.out.print(`Playground: ${page}`);
            ctx.out.info(
              `Webhook inspector receiving at ${receiver.url}/hooks/<bin> (the page picks a bin).`,
            );
            if (opts.open && ctx.out.interactive) openBrowser(page, ctx);
          },
        });
      } finally {
        await receiver.close();
      }
    });
}
