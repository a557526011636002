/**
 * How the server says it is ready, to whoever watches from outside: the readiness file orchestrators
 * probe (`test -f /var/run/cog/ready`, as with Cog images: present while the server takes predictions,
 * removed when setup failed, the worker is gone, or it is draining), and the `ready` log line main.ts
 * writes once (what `kiln predict IMAGE` and the benchmarks wait for instead of polling).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "./logger.js";

export const DEFAULT_READY_FILE = "/var/run/cog/ready";

export class ReadyFile {
  constructor(
    private readonly path: string | null,
    private readonly logger: Logger,
  ) {}

  get file(): string | null {
    return this.path;
  }

  set(ready: boolean): void {
    if (!this.path) return;
    try {
      if (ready) {
        mkdirSync(dirname(this.path), { recursive: true });
        writeFileSync(this.path, `${process.pid}\n`);
      } else rmSync(this.path, { force: true });
    } catch (err) {
      this.logger.warn("could not update the readiness file", { path: this.path, err });
    }
  }
}

/** The message of the log line main.ts writes once, when the server first becomes READY. */
export const READY_LOG_MESSAGE = "ready";

/**
 * What one line of the server's output says about its state, in either log format (logger.ts): the
 * ready line, an error (setup failed, the worker is gone: the health check then says why), or nothing.
 */
export function serverLogEvent(line: string): "ready" | "error" | undefined {
  const text = line.trim();
  if (text.startsWith("{")) {
    if (!text.includes('"level":"error"') && !text.includes(`"msg":"${READY_LOG_MESSAGE}"`)) return undefined;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof record !== "object" || record === null) return undefined;
    const { level, msg } = record as { level?: unknown; msg?: unknown };
    if (level === "error") return "error";
    return level === "info" && msg === READY_LOG_MESSAGE ? "ready" : undefined;
  }
  // console format: `TIME LEVEL msg {fields}`
  const m = /^\S+ (INFO|ERROR) +(\S+)/.exec(text);
  if (m?.[1] === "ERROR") return "error";
  return m?.[2] === READY_LOG_MESSAGE ? "ready" : undefined;
}
