/**
 * `kiln serve`: the model's HTTP server (container API and /v1) on the chosen port until Ctrl-C, which
 * stops and removes the container. The container's output is shown as it comes.
 */
import { createServer } from "node:net";
import type { RunContext } from "../context.js";
import { RuntimeStartError, UsageError } from "../errors.js";
import { waitForReady } from "../prediction/client.js";
import {
  interruptSignal,
  resolveModelSource,
  startContainer,
  type ModelSourceOptions,
} from "./model-source.js";

export interface ServeOptions extends ModelSourceOptions {
  /** 0: any free port. */
  port: number;
  host: string;
  uploadUrl?: string | undefined;
  /** Bearer token required on /v1 (--api-token or KILN_API_TOKEN). */
  apiToken?: string | undefined;
  /** Interpreter for --no-docker Python predictors. */
  python: string;
}

/** Setup may download weights for a long time; serve waits as long as it takes (Ctrl-C to stop). */
const SERVE_SETUP_TIMEOUT_MS = 24 * 3600 * 1000;

/** For commands built on serve (`kiln playground`): called once the model answers. */
export interface ServeHooks {
  onReady?: (url: string) => void | Promise<void>;
}

export async function runServe(ctx: RunContext, opts: ServeOptions, hooks: ServeHooks = {}): Promise<void> {
  const { port } = opts;
  if (port !== 0) await assertPortFree(opts.host, port);
  const note = (line: string): void => ctx.out.info(line);
  const env: Record<string, string> = {};
  const token = opts.apiToken;
  if (token) env["KILN_API_TOKEN"] = token;
  const source = await resolveModelSource(ctx, opts);
  const interrupt = interruptSignal(ctx);
  try {
    if (source.kind === "local") {
      const { startLocalModel } = await import("./local-model.js");
      const model = await startLocalModel(source.project, {
        python: opts.python,
        env,
        setupTimeoutMs: SERVE_SETUP_TIMEOUT_MS,
        host: opts.host,
        port,
        uploadUrl: opts.uploadUrl,
        logLevel: "info",
        apiToken: token,
      });
      try {
        await announceWhenReady(ctx, model.url, interrupt.signal, undefined, undefined);
        if (!interrupt.signal.aborted) await hooks.onReady?.(model.url);
        await untilAborted(interrupt.signal);
      } finally {
        await model.close();
      }
      return;
    }
    const container = await startContainer(source, {
      role: "serve",
      env,
      hostPort: port,
      host: opts.host,
      serverArgs: opts.uploadUrl ? ["--upload-url", opts.uploadUrl] : [],
      note,
      onLog: (stream, text) => (stream === "stderr" ? ctx.out.stderr : ctx.out.stdout).write(text),
    });
    try {
      await announceWhenReady(ctx, container.url, interrupt.signal, container.exited, container.tail);
      if (!interrupt.signal.aborted) await hooks.onReady?.(container.url);
      const status = await Promise.race([
        container.exited,
        untilAborted(interrupt.signal).then(() => undefined),
      ]);
      if (status !== undefined) {
        throw new RuntimeStartError(`the model's container stopped (exit status ${status})`, {
          details: container.tail().slice(-30),
        });
      }
      note("Stopping the model...");
    } finally {
      // A graceful stop lets in-flight predictions finish (bounded), as SIGTERM does in production.
      await container.remove(interrupt.signal.aborted ? 5 : 0);
    }
  } finally {
    interrupt.dispose();
  }
}

async function announceWhenReady(
  ctx: RunContext,
  url: string,
  signal: AbortSignal,
  exited: Promise<number> | undefined,
  tail: (() => string[]) | undefined,
): Promise<void> {
  ctx.out.info(`Starting the model at ${url} ...`);
  try {
    await waitForReady(url, { timeoutMs: SERVE_SETUP_TIMEOUT_MS, signal, exited, tail, intervalMs: 200 });
  } catch (err) {
    if (signal.aborted) return; // Ctrl-C while starting: just stop
    throw err;
  }
  ctx.out.info(`Model ready: ${url} (container API; hosted API at ${url}/v1). Press Ctrl-C to stop.`);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new UsageError(
              `port ${port} on ${host} is already in use`,
              "Choose another with -p PORT (or -p 0 for any free port).",
            )
          : err,
      ),
    );
    server.listen(port, host, () => server.close(() => resolve()));
  });
}
