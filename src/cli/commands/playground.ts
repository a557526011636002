/**
 * `kiln playground`: starts the model as `kiln serve` does, plus the webhook inspector's receiver, and
 * opens the browser playground at URL/playground (or prints the URL: --no-open, CI, no terminal).
 */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { parsePort } from "../flags.js";
import { addServeFlags, serveOptions, type ServeFlags } from "./serve.js";

interface PlaygroundFlags extends ServeFlags {
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
  addServeFlags(program.command("playground"))
    .description("run the model and open its browser playground: form, live output, compare, history, code")
    .option("--webhook-port <port>", "port of the webhook inspector's receiver (0: any free port)", "0")
    .option("--no-open", "print the playground's URL instead of opening a browser")
    .action(async (image: string | undefined, flags: PlaygroundFlags, cmd: Command) => {
      const ctx = context();
      const options = await serveOptions(ctx, image, flags, cmd);
      const webhookPort = parsePort(flags.webhookPort, "--webhook-port");
      const [{ runServe }, { startWebhookReceiver }] = await Promise.all([
        import("../../session/serve.js"),
        import("../../playground/receiver.js"),
      ]);
      const receiver = await startWebhookReceiver({ host: "127.0.0.1", port: webhookPort });
      try {
        await runServe(ctx, options, {
          onReady: (url) => {
            const page = `${url}/playground?webhooks=${encodeURIComponent(receiver.url)}`;
            ctx.out.print(`Playground: ${page}`);
            ctx.out.info(
              `Webhook inspector receiving at ${receiver.url}/hooks/<bin> (the page picks a bin).`,
            );
            if (flags.open && ctx.out.interactive) openBrowser(page, ctx);
          },
        });
      } finally {
        await receiver.close();
      }
    });
}
