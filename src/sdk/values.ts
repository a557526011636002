/**
 * Value types a predictor sees or returns: secrets (redacted when printed) and file outputs.
 */
import { isAbsolute, resolve } from "node:path";

const REDACTED = "**********";

/** A secret input. Its value is only available through get(); printing or serializing it is redacted. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret's real value. */
  get(): string {
    return this.#value;
  }
  /** Cog's Python name for get(). */
  getSecretValue(): string {
    return this.#value;
  }
  /** Always `**********`: a secret never ends up in logs or output by accident. */
  toString(): string {
    return REDACTED;
  }
  /** Always `**********`. */
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret(${REDACTED})`;
  }
}

/** A file produced by a predictor. The server turns it into a data: URI or uploads it. */
export class KilnFile {
  /** Absolute path of the file on disk. */
  readonly path: string;
  constructor(path: string) {
    this.path = isAbsolute(path) ? path : resolve(path);
  }
  /** How the worker hands the file to the server (which never sends a local path to clients). */
  toJSON(): { $file: string } {
    return { $file: this.path };
  }
}

/** Marks a path as a file output: `return fileOutput("/tmp/out.png")`. Relative paths use the cwd. */
export function fileOutput(path: string): KilnFile {
  return new KilnFile(path);
}
