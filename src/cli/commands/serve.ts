import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addServeFlags, serveOptions, type ServeFlags } from "../serve-options.js";

export function registerServe(program: Command, context: () => CommandContext): void {
  addServeFlags(program.command("serve"))
    .description("run the model's HTTP server (container API and /v1) until Ctrl-C")
    .action(async (image: string | undefined, flags: ServeFlags, cmd: Command) => {
      const ctx = context();
      const options = await serveOptions(ctx, image, flags, cmd);
      const { runServe } = await import("../../session/serve.js");
      await runServe(ctx, options);
    });
}
