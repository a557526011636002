/**
 * `kiln playground`: starts the model as `kiln serve` does, plus the webhook inspector's receiver, and
 * opens the browser playground at URL/playground (or prints the URL: --no-open, CI, no terminal).
 */
import { spawn } from "node:child_process";
import type { RunContext } from "../context.js";
import { startWebhookReceiver } from "../playground/receiver.js";
import { runServe, type ServeOptions } from "./serve.js";

export interface PlaygroundOptions {
  /** Port of the webhook inspector's receiver (0: any free port). */
  webhookPort: number;
  /** Open a browser (only where there is a terminal to open it from). */
  open: boolean;
  /** Whether a person is at a terminal (no CI, no --json): the browser is opened only then. */
  interactive: boolean;
}

export async function runPlayground(
  ctx: RunContext,
  serve: ServeOptions,
  opts: PlaygroundOptions,
): Promise<void> {
  const receiver = await startWebhookReceiver({ host: "127.0.0.1", port: opts.webhookPort });
  try {
    await runServe(ctx, serve, {
      onReady: (url) => {
        const page = `${url}/playground?webhooks=${encodeURIComponent(receiver.url)}`;
        ctx.out.print(`Playground: ${page}`);
        ctx.out.info(`Webhook inspector receiving at ${receiver.url}/hooks/<bin> (the page picks a bin).`);
        if (opts.open && opts.interactive) openBrowser(ctx, page);
      },
    });
  } finally {
    await receiver.close();
  }
}

function openBrowser(ctx: RunContext, url: string): void {
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
