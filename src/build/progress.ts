/**
 * Turns BuildKit `--progress plain` lines into build events (current step, cached/done, logs) and,
 * when the build fails, into a short BuildError: the failing step and the last lines of its log.
 */
import { BuildError } from "../errors.js";

export type BuildEvent =
  | { kind: "phase"; name: string }
  | { kind: "step"; name: string }
  | { kind: "step-done"; name: string; cached: boolean; seconds: number | null }
  | { kind: "log"; step: string; line: string }
  | { kind: "note"; text: string };

interface Vertex {
  name: string;
  logs: string[];
  error: string | null;
}

const VERTEX = /^#(\d+) (.*)$/;
const TIMED_LOG = /^\d+\.\d+ (.*)$/;
const KEEP_LINES = 200;

export class ProgressParser {
  private readonly vertices = new Map<string, Vertex>();
  private readonly tail: string[] = [];

  constructor(private readonly emit: (e: BuildEvent) => void = () => undefined) {}

  push(line: string): void {
    this.tail.push(line);
    if (this.tail.length > KEEP_LINES) this.tail.shift();
    const m = VERTEX.exec(line);
    if (!m?.[1] || m[2] === undefined) return;
    const id = m[1];
    const rest = m[2];
    let v = this.vertices.get(id);
    if (!v) {
      // The first line of a vertex is its name: "[3/9] RUN apt-get ..." or "[internal] load ..."
      v = { name: rest, logs: [], error: null };
      this.vertices.set(id, v);
      if (!rest.startsWith("[internal]") && !rest.startsWith("sha256:"))
        this.emit({ kind: "step", name: rest });
      return;
    }
    if (rest.startsWith("sha256:")) return;
    if (rest === "CACHED") this.emit({ kind: "step-done", name: v.name, cached: true, seconds: null });
    else if (rest.startsWith("DONE")) {
      const secs = Number.parseFloat(rest.slice(5));
      if (!v.name.startsWith("[internal]"))
        this.emit({
          kind: "step-done",
          name: v.name,
          cached: false,
          seconds: Number.isFinite(secs) ? secs : null,
        });
    } else if (rest.startsWith("ERROR")) v.error = rest.replace(/^ERROR:?\s*/, "");
    else {
      const log = TIMED_LOG.exec(rest);
      const text = log?.[1] ?? rest;
      v.logs.push(text);
      if (v.logs.length > KEEP_LINES) v.logs.shift();
      this.emit({ kind: "log", step: v.name, line: text });
    }
  }

  /** The BuildError for a failed build: failing step, its error and up to `lines` lines of its log. */
  failure(lines = 20): BuildError {
    const failed = [...this.vertices.values()].find((v) => v.error !== null);
    const solve = this.tail.filter((l) => /^(error|failed to solve|ERROR:)/i.test(l.trim())).pop();
    if (!failed) {
      return new BuildError("docker build failed", { details: this.tail.slice(-lines) });
    }
    const logs = failed.logs.slice(-lines);
    // BuildKit repeats the whole command in its error: the exit code is the useful part.
    const code = /exit code: (\d+)/.exec(failed.error ?? "")?.[1];
    const last = code
      ? `-> exited with code ${code}`
      : failed.error
        ? `-> ${failed.error}`
        : solve
          ? `-> ${solve}`
          : null;
    const name = failed.name.replace(/\s+/g, " ");
    return new BuildError(`build step failed: ${name.length > 160 ? `${name.slice(0, 157)}...` : name}`, {
      details: [...logs, ...(last ? [last] : [])],
      hint: hintFor(failed, logs),
    });
  }
}

function hintFor(v: Vertex, logs: string[]): string | undefined {
  const text = logs.join("\n");
  if (/Unable to locate package|has no installation candidate/.test(text)) {
    return "An apt package in build.system_packages does not exist for this base image's distribution: check its name with `apt-cache search`.";
  }
  if (/No matching distribution found|Could not find a version that satisfies/.test(text)) {
    return "pip could not find a package in build.python_requirements: check the name/version, or pass a private index with --secret id=pip_index_url,env=PIP_INDEX_URL.";
  }
  if (/npm ERR!|npm error/.test(text))
    return "npm ci failed: make sure package-lock.json is in sync with package.json (run npm install).";
  if (
    /pull access denied|failed to resolve source metadata|failed to do request/.test(
      `${text}\n${v.error ?? ""}`,
    )
  ) {
    return "A base image could not be pulled: use --base-image/--node-image with an image available locally or in your registry.";
  }
  return undefined;
}
