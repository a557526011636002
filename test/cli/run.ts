/** Runs the CLI in-process with captured output, the way a user's terminal would see it. */
import { Writable } from "node:stream";
import { main } from "../../src/cli/main.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runCli(args: string[], cwd: string = process.cwd()): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(["node", "kiln", ...args], { stdout, stderr, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
