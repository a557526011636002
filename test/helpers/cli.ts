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

export interface RunKilnOptions {
  /** Ctrl-C the run once stdout or stderr matches (a server that is up, say). */
  interruptWhen?: RegExp;
}

export async function runKiln(
  args: string[],
  cwd = process.cwd(),
  opts: RunKilnOptions = {},
): Promise<CliRun> {
  const out = capture();
  const err = capture();
  const ctrlC = new AbortController();
  const { interruptWhen } = opts;
  if (interruptWhen) {
    const check = (): void => {
      if (!ctrlC.signal.aborted && interruptWhen.test(`${out.text()}\n${err.text()}`)) ctrlC.abort();
    };
    out.stream.on("data", check);
    err.stream.on("data", check);
  }
  const code = await main(["node", "kiln", ...args], {
    stdout: out.stream,
    stderr: err.stream,
    cwd,
    signal: ctrlC.signal,
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
