/**
 * Everything kiln writes to the terminal goes through here: plain lines, warnings, --json results,
 * and (for long work) spinners. Colours follow --no-color / NO_COLOR / a non-TTY stream.
 */
import { styleText } from "node:util";

export interface OutputOptions {
  color: boolean;
  debug: boolean;
  /** Machine-readable mode: only the final JSON document goes to stdout. */
  json: boolean;
}

type Style = Parameters<typeof styleText>[0];

export class Output {
  readonly options: OutputOptions;
  constructor(
    options: Partial<OutputOptions> = {},
    readonly stdout: NodeJS.WritableStream = process.stdout,
    readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {
    const tty = Boolean((stderr as { isTTY?: boolean }).isTTY);
    this.options = {
      color: options.color ?? (tty && !process.env.NO_COLOR && process.env.TERM !== "dumb"),
      debug: options.debug ?? false,
      json: options.json ?? false,
    };
  }

  style(style: Style, text: string): string {
    return this.options.color ? styleText(style, text) : text;
  }

  /** A result line for the user (stdout). */
  print(line: string): void {
    this.stdout.write(line.endsWith("\n") ? line : `${line}\n`);
  }

  /** Progress and notes go to stderr so stdout stays clean for results and pipes. */
  info(line: string): void {
    if (this.options.json) return;
    this.stderr.write(`${line}\n`);
  }

  warn(line: string): void {
    this.stderr.write(`${this.style("yellow", "warning:")} ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`${this.style("red", "error:")} ${line}\n`);
  }

  debug(line: string): void {
    if (this.options.debug) this.stderr.write(`${this.style("dim", `debug: ${line}`)}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** True when progress should be animated (TTY, not CI, not JSON). */
  get interactive(): boolean {
    return Boolean((this.stderr as { isTTY?: boolean }).isTTY) && !process.env.CI && !this.options.json;
  }
}
