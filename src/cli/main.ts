/**
 * The CLI entry: parses argv, runs one command, and is the ONLY place that catches errors,
 * prints them and chooses the exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { EXIT_CODES, InternalError, KilnError } from "../errors.js";
import { KILN_VERSION } from "../version.js";
import { Output } from "./output.js";
import type { CommandContext } from "./context.js";
import { COMMANDS } from "./commands/index.js";
import { cogPointer } from "./cog-pointers.js";

export interface GlobalOptions {
  debug?: boolean;
  color?: boolean;
  file?: string;
}

export interface MainIO {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  cwd?: string;
}

export function buildProgram(getContext: () => CommandContext): Command {
  const program = new Command("kiln")
    .description(
      "Package machine-learning models as production containers.\nCog-compatible: cog.yaml and predict.py work unchanged.",
    )
    .version(KILN_VERSION, "-v, --version", "print the kiln version")
    .addOption(new Option("--debug", "show debug logs and stack traces"))
    .addOption(new Option("--no-color", "disable colours (also NO_COLOR=1)"))
    .addOption(new Option("-f, --file <path>", "manifest to use instead of ./cog.yaml (searched upward)"))
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run kiln --help for usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  for (const register of COMMANDS) register(program, getContext);
  return program;
}

export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const debugFlag = argv.includes("--debug");
  const noColor = argv.includes("--no-color");
  const out = new Output({ debug: debugFlag, ...(noColor ? { color: false } : {}) }, stdout, stderr);

  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);

  const context: CommandContext = {
    out,
    cwd: io.cwd ?? process.cwd(),
    signal: abort.signal,
    debug: debugFlag,
  };
  const program = buildProgram(() => context);
  program.exitOverride();
  program.configureOutput({
    writeOut: (s) => stdout.write(s),
    writeErr: (s) => stderr.write(s),
    outputError: (s, write) => write(out.style("red", s)),
  });
  for (const cmd of program.commands) {
    cmd.exitOverride();
    cmd.configureOutput(program.configureOutput());
  }

  // Cog users type Cog's commands and flags: point them at kiln's equivalent in one line.
  const pointer = cogPointer(argv.slice(2));
  if (pointer !== undefined) {
    out.error(pointer);
    process.removeListener("SIGINT", onSigint);
    return EXIT_CODES.usage;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" && process.exitCode !== 0 ? process.exitCode : EXIT_CODES.ok;
  } catch (err) {
    return report(err, out, debugFlag);
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

function report(err: unknown, out: Output, debug: boolean): number {
  if (err instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    if (err.exitCode === 0) return EXIT_CODES.ok;
    return EXIT_CODES.usage;
  }
  const error = err instanceof KilnError ? err : new InternalError(describe(err), { cause: err });
  out.error(error.message);
  for (const line of error.details) out.stderr.write(`  ${line}\n`);
  if (error.hint) out.stderr.write(`${out.style("cyan", "hint:")} ${error.hint}\n`);
  if (debug) {
    const stack = err instanceof Error ? err.stack : String(err);
    out.stderr.write(`${stack ?? ""}\n`);
    if (err instanceof Error && err.cause instanceof Error)
      out.stderr.write(`caused by: ${err.cause.stack ?? err.cause.message}\n`);
  }
  return error.exitCode;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `Unexpected error: ${err.message}`;
  return `Unexpected error: ${String(err)}`;
}
