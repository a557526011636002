/**
 * kiln's error model. Every failure a user can cause or meet is a KilnError with a stable `code`,
 * an exit code from EXIT_CODES, a one-line message and, where we can say how to fix it, a hint.
 * Only src/cli/main.ts prints errors.
 */

/** The one table of process exit codes (documented in the README). */
export const EXIT_CODES = {
  ok: 0,
  /** A prediction ran and failed or was canceled (kiln predict). */
  predictionFailed: 1,
  /** Bad command line: unknown flag, missing argument, bad value. */
  usage: 2,
  /** cog.yaml is missing or invalid. */
  manifest: 3,
  /** The Docker engine cannot be reached or refused the request. */
  dockerUnavailable: 4,
  /** The image build failed. */
  build: 5,
  /** Registry push/pull/login failed (network, auth, protocol). */
  registry: 6,
  /** The model's container or server did not start (setup failed, timed out). */
  runtime: 7,
  /** kiln client: the generated client does not match the model (breaking change refused, --check). */
  clientMismatch: 9,
  /** Interrupted by the user (Ctrl-C). 128 + SIGINT, as shells expect. */
  interrupted: 130,
  /** A bug in kiln. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export interface KilnErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Extra lines printed under the message (e.g. the last lines of a build log). */
  details?: string[] | undefined;
}

export class KilnError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  readonly details: string[];

  constructor(code: string, exitCode: ExitCode, message: string, options: KilnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** One problem in a manifest, positioned in its file. */
export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `build.python_version`; empty for the whole document. */
  path: string;
  message: string;
  hint?: string | undefined;
  severity: "error" | "warning";
  /** A warning's stable kind (--json documents carry it); `manifest_warning` when unset. */
  code?: string | undefined;
}

export function formatProblem(p: ManifestProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  const key = p.path === "" ? "" : ` ${p.path}:`;
  const hint = p.hint ? `\n    hint: ${p.hint}` : "";
  return `${where}${key} ${p.message}${hint}`;
}

export class ManifestError extends KilnError {
  readonly problems: ManifestProblem[];
  /** `total`: the file's full error count when `problems` lists only the first ones. */
  constructor(problems: ManifestProblem[], options: KilnErrorOptions & { total?: number } = {}) {
    const errors = problems.filter((p) => p.severity === "error");
    const first = errors[0] ?? problems[0];
    const file = first?.file ?? "cog.yaml";
    const count = options.total ?? errors.length;
    const summary = count === 1 ? `${file} has 1 problem` : `${file} has ${count} problems`;
    super("manifest_invalid", EXIT_CODES.manifest, summary, {
      ...options,
      details: problems.map(formatProblem),
    });
    this.problems = problems;
  }
}

/** cog.yaml could not be found at all. */
export class ManifestNotFoundError extends KilnError {
  constructor(message: string, hint?: string) {
    super("manifest_not_found", EXIT_CODES.manifest, message, { hint });
  }
}

export class UsageError extends KilnError {
  constructor(message: string, hint?: string) {
    super("usage", EXIT_CODES.usage, message, { hint });
  }
}

export class DockerUnavailableError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("docker_unavailable", EXIT_CODES.dockerUnavailable, message, {
      hint:
        options.hint ??
        "Start a Docker engine (e.g. `dockerd`), or point DOCKER_HOST at one. On Debian: apt-get install docker.io.",
      ...options,
    });
  }
}

export class BuildError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("build_failed", EXIT_CODES.build, message, options);
  }
}

export class RegistryError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("registry_error", EXIT_CODES.registry, message, options);
  }
}

export class AuthError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("registry_auth", EXIT_CODES.registry, message, options);
  }
}

/** kiln client: the generated file does not match the model (breaking change refused, --check found a difference). */
export class ClientMismatchError extends KilnError {
  constructor(message: string, hint: string, details: string[]) {
    super("client_mismatch", EXIT_CODES.clientMismatch, message, { hint, details });
  }
}

export class RuntimeStartError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("runtime_start", EXIT_CODES.runtime, message, options);
  }
}

export class PredictionError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("prediction_failed", EXIT_CODES.predictionFailed, message, options);
  }
}

export class InterruptedError extends KilnError {
  constructor(message = "Interrupted.") {
    super("interrupted", EXIT_CODES.interrupted, message);
  }
}

export class InternalError extends KilnError {
  constructor(message: string, options: KilnErrorOptions = {}) {
    super("internal", EXIT_CODES.internal, message, {
      hint: "This is a bug in kiln: please report it with the output of `kiln --version` and `--debug`.",
      ...options,
    });
  }
}
