/**
 * The CLI entry: parses argv, runs one command, and is the ONLY place that catches errors,
 * prints them and chooses the exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { EXIT_CODES, InternalError, InterruptedError, KilnError, UsageError } from "../errors.js";
import { KILN_VERSION } from "../version.js";
import { Output } from "./output.js";
import { createCommandContext, type CommandContext } from "./context.js";
import { COMMANDS, commandFor } from "./commands/index.js";
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
  /** Stands in for Ctrl-C (tests); SIGINT aborts the run as well. */
  signal?: AbortSignal;
}

/**
 * The program with every command, or, given the run's arguments, only the command they name (building
 * all fourteen with their options is a few ms of every start; `--help` and typos still get them all).
 */
export function buildProgram(getContext: () => CommandContext, args?: readonly string[]): Command {
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
  const only = args ? commandFor(args) : undefined;
  for (const command of only ? [only] : COMMANDS) command.register(program, getContext);
  return program;
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export async function main(argv: string[], io: MainIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const debugFlag = argv.includes("--debug");
  const noColor = argv.includes("--no-color");
  const out = new Output({ debug: debugFlag, ...(noColor ? { color: false } : {}) }, stdout, stderr);

  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Error("interrupted"));
  // SIGINT, SIGTERM and SIGHUP (Ctrl-C, CI cancel, `timeout`, `kill PID`) all stop a run the same way:
  // children such as `docker build` are stopped and temp dirs removed before exit 130. The listeners
  // stay registered (not `once`): libraries using signal-exit re-raise a signal that has no other
  // listener, which would kill kiln mid-cleanup. Repeats are ignored: the cleanups are bounded, and
  // a container or temp dir must not be left behind by an impatient second Ctrl-C.
  const onSignal = (): void => onSigint();
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  if (io.signal?.aborted) onSigint();
  io.signal?.addEventListener("abort", onSigint, { once: true });

  const context = createCommandContext(out, {
    cwd: io.cwd ?? process.cwd(),
    signal: abort.signal,
    debug: debugFlag,
  });
  const program = buildProgram(() => context, argv.slice(2));
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
    // --help and --version arrive here as "errors" with exit code 0.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_CODES.ok;
    const error = classify(err, abort.signal.aborted);
    // --json runs get the error as their one stdout document too, so scripts can read its code.
    if (jsonRequested(argv)) out.json({ error: errorDocument(error) });
    // commander has already printed its own usage message.
    if (err instanceof CommanderError) return error.exitCode;
    return report(error, err, out, debugFlag);
  } finally {
    for (const sig of STOP_SIGNALS) process.removeListener(sig, onSignal);
    io.signal?.removeEventListener("abort", onSigint);
  }
}

/**
 * The one mapping from a failure to a KilnError (and so to an exit code): after Ctrl-C every failure
 * is "interrupted" (130), whatever the aborted step threw; commander's parse errors are usage errors;
 * anything that is not a KilnError is a bug in kiln.
 */
export function classify(err: unknown, interrupted: boolean): KilnError {
  if (interrupted) return err instanceof InterruptedError ? err : new InterruptedError();
  if (err instanceof KilnError) return err;
  if (err instanceof CommanderError) return new UsageError(err.message.replace(/^error: /, ""));
  return new InternalError(describe(err), { cause: err });
}

function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--json" || a.startsWith("--json="));
}

function errorDocument(error: KilnError): Record<string, unknown> {
  return {
    code: error.code,
    exitCode: error.exitCode,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(error.details.length > 0 ? { details: error.details } : {}),
  };
}

function report(error: KilnError, original: unknown, out: Output, debug: boolean): number {
  const err = original;
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
