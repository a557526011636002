/**
 * In a worker thread, fds 1 and 2 are the server's own, not the worker's: what a predictor writes there
 * directly (fs.writeSync(1, ...)) or through a subprocess that inherits them would bypass its logs, and
 * a subprocess would outlive the worker. So, in the thread only:
 * - fs.write/fs.writeSync to fd 1/2 go to the thread's process.stdout/stderr (captured as in a process);
 * - a subprocess that would inherit fd 1/2 gets pipes forwarded to those streams instead (in the async
 *   context of the code that started it, so its output lands in that prediction's logs), and its pid is
 *   reported to the server, which kills what is still running when the worker ends (a process worker's
 *   process group does the same). A worker that stops politely kills them itself first (stopChildren),
 *   so that they are also reaped: the server cannot wait for a terminated thread's children, which stay
 *   zombies (no memory, a process-table slot) until the server exits.
 * Native code that writes to fd 1/2 itself still reaches the server's output (docs: worker isolation).
 */
import { ChildProcess } from "node:child_process";
import type * as FS from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type { Writable } from "node:stream";

// The builtin's mutable CommonJS object (an ESM namespace cannot be patched).
const fs = createRequire(import.meta.url)("node:fs") as typeof FS;

type StdioEntry = string | number | null | undefined | object;

function streamFor(fd: unknown): NodeJS.WriteStream | null {
  if (fd === 1) return process.stdout;
  if (fd === 2) return process.stderr;
  return null;
}

function routeFdWrites(): void {
  const writeSync = fs.writeSync;
  fs.writeSync = function (fd: number, data: unknown, ...rest: unknown[]): number {
    const stream = streamFor(fd);
    if (!stream) return (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    const chunk = typeof data === "string" ? data : sliceOf(data as NodeJS.ArrayBufferView, rest);
    stream.write(chunk);
    return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
  } as typeof fs.writeSync;
  const write = fs.write;
  fs.write = function (fd: number, data: unknown, ...rest: unknown[]): void {
    const stream = streamFor(fd);
    if (!stream) return (write as (...a: unknown[]) => void)(fd, data, ...rest);
    const callback = rest.pop() as (err: Error | null, n: number, d: unknown) => void;
    const chunk = typeof data === "string" ? data : sliceOf(data as NodeJS.ArrayBufferView, rest);
    const n = typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
    stream.write(chunk, () => callback(null, n, data));
  } as typeof fs.write;
}

/** The bytes fs.write(Sync)(fd, buffer[, offset[, length]]) would write. */
function sliceOf(view: NodeJS.ArrayBufferView, rest: unknown[]): Buffer {
  const all = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const offset = typeof rest[0] === "number" ? rest[0] : 0;
  const length = typeof rest[1] === "number" ? rest[1] : all.length - offset;
  return all.subarray(offset, offset + length);
}

function normalizeStdio(stdio: StdioEntry): StdioEntry[] {
  if (typeof stdio === "string") return [stdio, stdio, stdio];
  return Array.isArray(stdio) ? [...(stdio as StdioEntry[])] : ["pipe", "pipe", "pipe"];
}

function inheritsFd(entry: StdioEntry, fd: number): boolean {
  return entry === "inherit" || entry === fd || entry === process.stdout || entry === process.stderr;
}

function routeChildren(report: (event: "spawned" | "reaped", pid: number) => void): void {
  type SpawnOptions = { stdio?: StdioEntry; [k: string]: unknown };
  type Spawn = (this: ChildProcess, o: SpawnOptions) => unknown;
  // Every child_process API (spawn, exec, execFile, fork) starts its process through this method.
  const proto = ChildProcess.prototype as unknown as { spawn: Spawn };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, options: SpawnOptions) {
    const stdio = normalizeStdio(options.stdio);
    const forwarded: [number, Writable][] = [];
    for (const fd of [1, 2]) {
      if (!inheritsFd(stdio[fd], fd)) continue;
      stdio[fd] = "pipe";
      forwarded.push([fd, fd === 1 ? process.stdout : process.stderr]);
    }
    const result = spawn.call(this, forwarded.length ? { ...options, stdio } : options);
    for (const [fd, target] of forwarded) {
      const source = fd === 1 ? this.stdout : this.stderr;
      source?.on("data", (chunk: Buffer) => target.write(chunk));
      // The caller asked for none: keep child.stdout/stderr null as it expects.
      if (fd === 1) Object.defineProperty(this, "stdout", { value: null, configurable: true });
      else Object.defineProperty(this, "stderr", { value: null, configurable: true });
    }
    const pid = this.pid;
    if (pid !== undefined) {
      report("spawned", pid);
      live.add(this);
      this.once("exit", () => {
        live.delete(this);
        report("reaped", pid);
      });
    }
    return result;
  };
}

const live = new Set<ChildProcess>();

/** Kills the subprocesses still running and waits (at most `boundMs`) until they are reaped. */
export async function stopChildren(boundMs = 1000): Promise<void> {
  const waits = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }),
  );
  if (waits.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, boundMs)))]);
  clearTimeout(timer);
}

export function routeThreadStdio(report: (event: "spawned" | "reaped", pid: number) => void): void {
  routeFdWrites();
  routeChildren(report);
  syncBuiltinESMExports();
}
