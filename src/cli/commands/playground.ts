import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { parsePort } from "../flags.js";
import { addServeFlags, serveOptions, type ServeFlags } from "../serve-options.js";

interface PlaygroundFlags extends ServeFlags {
  open: boolean;
  webhookPort: string;
}

export function registerPlayground(program: Command, context: () => CommandContext): void {
  addServeFlags(program.command("playground"))
    .description("run the model and open its browser playground: form, live output, compare, history, code")
    .option("--webhook-port <port>", "port of the webhook inspector's receiver (0: any free port)", "0")
    .option("--no-open", "print the playground's URL instead of opening a browser")
    .action(async (image: string | undefined, flags: PlaygroundFlags, cmd: Command) => {
      const ctx = context();
      const serve = await serveOptions(ctx, image, flags, cmd);
      const webhookPort = parsePort(flags.webhookPort, "--webhook-port");
      const { runPlayground } = await import("../../session/playground.js");
      await runPlayground(ctx, serve, { webhookPort, open: flags.open, interactive: ctx.out.interactive });
    });
}
