/** Runs the kiln CLI in-process (src/cli/main.ts) and captures what it prints. */
import { PassThrough } from "node:stream";
import { main } from "../../src/cli/main.js";
import { Output } from "../../src/cli/output.js";
import { createCommandContext, type CommandContext } from "../../src/cli/context.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

export async function runKiln(
  args: string[],
  cwd = process.cwd(),
  /** `signal` stands in for Ctrl-C; `onStderr` sees stderr so far after each write (wait for a line). */
  opts: { signal?: AbortSignal; onStderr?: (all: string) => void } = {},
): Promise<CliRun> {
  const out = capture();
  const err = capture();
  if (opts.onStderr) err.stream.on("data", () => opts.onStderr?.(err.text()));
  const code = await main(["node", "kiln", ...args], {
    stdout: out.stream,
    stderr: err.stream,
    cwd,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** A CommandContext writing to buffers, for calling a command's run function directly. */
export function testContext(cwd = process.cwd()): {
  ctx: CommandContext;
  stdout: () => string;
  stderr: () => string;
} {
  const out = capture();
  const err = capture();
  const ctx: CommandContext = createCommandContext(new Output({ color: false }, out.stream, err.stream), {
    cwd,
    signal: new AbortController().signal,
    debug: false,
  });
  return { ctx, stdout: out.text, stderr: err.text };
}
