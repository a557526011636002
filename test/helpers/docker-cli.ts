/**
 * `docker ARGS` for tests (pull, run, tag, builder prune) with the client kiln's own builds use
 * (src/docker/cli.ts locateDockerCli). kiln itself talks to the engine through src/docker/api.ts and
 * runs the docker CLI only for BuildKit builds, so this lives with the tests.
 */
import { execa } from "execa";
import { DockerUnavailableError, EXIT_CODES, KilnError, type KilnErrorOptions } from "../../src/errors.js";
import { locateDockerCli, type DockerCli } from "../../src/docker/cli.js";

/** A docker command that ran and failed. Carries the tail of its stderr as details. */
export class DockerCommandError extends KilnError {
  readonly exitStatus: number | undefined;
  readonly stderr: string;
  constructor(
    message: string,
    exitStatus: number | undefined,
    stderr: string,
    options: KilnErrorOptions = {},
  ) {
    super("docker_command_failed", EXIT_CODES.dockerUnavailable, message, {
      details: stderr.trim().split("\n").filter(Boolean).slice(-15),
      ...options,
    });
    this.exitStatus = exitStatus;
    this.stderr = stderr;
  }
}

export interface ExecDockerOptions {
  cli?: DockerCli;
  cwd?: string;
  /** Written to the command's stdin. */
  input?: string | Buffer;
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called for each output line as it arrives (builds stream progress here). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ExecDockerResult {
  stdout: string;
  stderr: string;
}

/** Runs `docker ARGS` with the located client; throws DockerCommandError / DockerUnavailableError. */
export async function execDocker(args: string[], options: ExecDockerOptions = {}): Promise<ExecDockerResult> {
  const cli = options.cli ?? (await locateDockerCli());
  const subprocess = execa(cli.path, args, {
    cwd: options.cwd,
    env: { ...cli.env, ...options.env },
    input: options.input,
    cancelSignal: options.signal,
    timeout: options.timeoutMs,
    reject: false,
    stripFinalNewline: true,
  });
  if (options.onLine) {
    const onLine = options.onLine;
    for (const stream of ["stdout", "stderr"] as const) {
      let pending = "";
      subprocess[stream]?.on("data", (chunk: Buffer) => {
        const lines = (pending + chunk.toString("utf8")).split(/\r?\n/);
        pending = lines.pop() ?? "";
        for (const line of lines) onLine(line, stream);
      });
      subprocess[stream]?.on("end", () => {
        if (pending !== "") onLine(pending, stream);
      });
    }
  }
  const result = await subprocess;
  const stdout = String(result.stdout ?? "");
  const stderr = String(result.stderr ?? "");
  if (!result.failed) return { stdout, stderr };
  const command = `docker ${args.join(" ")}`.slice(0, 200);
  if (result.isCanceled) throw new DockerCommandError(`${command} was canceled.`, result.exitCode, stderr);
  if (result.timedOut) {
    throw new DockerCommandError(
      `${command} did not finish within ${options.timeoutMs} ms.`,
      result.exitCode,
      stderr,
    );
  }
  if (result.exitCode === undefined) {
    throw new DockerUnavailableError(`Cannot run ${cli.path}: ${result.shortMessage}`, {
      cause: result.cause,
    });
  }
  if (/Cannot connect to the Docker daemon|permission denied while trying to connect/i.test(stderr)) {
    throw new DockerUnavailableError(
      `${command} cannot reach the Docker engine: ${stderr.trim().split("\n")[0]}`,
    );
  }
  throw new DockerCommandError(
    `${command} failed with exit code ${result.exitCode}.`,
    result.exitCode,
    stderr,
  );
}
