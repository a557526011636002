/**
 * Starts the real node worker (bundled from src with esbuild, as the runtime bundle does) as a process
 * with the protocol pipes on fds 3/4, or as a worker thread speaking through its port (the server's
 * default, worker-thread.ts), and records every frame it sends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Worker } from "node:worker_threads";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import { build } from "esbuild";
import {
  FrameDecoder,
  encodeFrame,
  type ServerMessage,
  type WorkerMessage,
} from "../../../src/runtime/protocol.js";
import {
  decodeFromThread,
  eachFrame,
  encodeToThread,
  type FromThread,
} from "../../../src/runtime/thread-frames.js";

/** The two ways a node worker runs (KILN_NODE_WORKER_MODE). */
export const NODE_WORKER_MODES = ["thread", "process"] as const;
export type NodeWorkerMode = (typeof NODE_WORKER_MODES)[number];

const REPO = resolve(import.meta.dirname, "../../..");
let bundled: Promise<string> | null = null;

/** Bundles src/runtime/workers/node/main.ts once per test file. */
export function workerBundle(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), "kiln-worker-")), "node-worker.mjs");
    await build({
      entryPoints: [join(REPO, "src/runtime/workers/node/main.ts")],
      outfile,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: true,
      logLevel: "silent",
    });
    return outfile;
  })();
  return bundled;
}

export interface WorkerHandle {
  /** The process (process mode only). */
  child: ChildProcess | null;
  /** Ends the server's side of the channel (the pipe's EOF, or the thread's end notice). */
  closeInput(): void;
  frames: WorkerMessage[];
  /** How many times frames arrived: messages from the thread, reads of the pipe. */
  arrivals: number;
  /** Sends several frames together: one message to the thread, one write to the pipe. */
  sendMany(messages: ServerMessage[]): void;
  stdout: string[];
  stderr: string[];
  send(message: ServerMessage): void;
  /** Resolves with the first frame (after `from` frames) matching the predicate. */
  waitFor<T extends WorkerMessage>(pred: (m: WorkerMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (m: WorkerMessage) => boolean, timeoutMs?: number): Promise<WorkerMessage>;
  exited: Promise<number | null>;
  kill(): void;
}

export async function startWorker(
  args: string[],
  env: Record<string, string> = {},
  mode: NodeWorkerMode = "process",
): Promise<WorkerHandle> {
  const bundle = await workerBundle();
  const frames: WorkerMessage[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }[] = [];
  const onFrame = (m: WorkerMessage): void => {
    frames.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  let transport: Pick<WorkerHandle, "child" | "closeInput" | "send" | "sendMany" | "exited" | "kill">;
  const handle = { arrivals: 0 };
  if (mode === "thread") {
    const thread = new Worker(bundle, {
      argv: args,
      env: { ...process.env, ...env },
      stdout: true,
      stderr: true,
      execArgv: [],
    });
    thread.on("message", (data: FromThread) => {
      if (typeof data === "object" && !Array.isArray(data)) return; // notices about the thread itself
      handle.arrivals++;
      // Frames the thread sent in one turn cross as one string, one per line.
      if (typeof data === "string")
        return eachFrame(data, (line) => onFrame(JSON.parse(line) as WorkerMessage));
      onFrame(decodeFromThread(data).message);
    });
    thread.stdout.on("data", (c: Buffer) => stdout.push(c.toString()));
    thread.stderr.on("data", (c: Buffer) => stderr.push(c.toString()));
    const post = (slices: ReturnType<typeof encodeToThread>): void => {
      for (const { data, transfer } of slices) thread.postMessage(data, transfer);
    };
    transport = {
      child: null,
      closeInput: () => thread.postMessage(null),
      send: (m) => post(encodeToThread(encodeFrame(m))),
      sendMany: (ms) => post(encodeToThread(ms.map(encodeFrame).join(""))),
      exited: new Promise<number | null>((res) => thread.on("exit", (code) => res(code))),
      kill: () => void thread.terminate(),
    };
  } else {
    const child = spawn(process.execPath, [bundle, ...args], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const decoder = new FrameDecoder<WorkerMessage>(onFrame, (err) => {
      throw err;
    });
    (child.stdio[4] as Readable).on("data", (c: Buffer) => {
      handle.arrivals++;
      decoder.push(c);
    });
    child.stdout?.on("data", (c: Buffer) => stdout.push(c.toString()));
    child.stderr?.on("data", (c: Buffer) => stderr.push(c.toString()));
    const toWorker = child.stdio[3] as Writable;
    toWorker.on("error", () => undefined);
    transport = {
      child,
      closeInput: () => void toWorker.destroy(),
      send: (m) => void toWorker.write(encodeFrame(m)),
      sendMany: (ms) => void toWorker.write(ms.map(encodeFrame).join("")),
      exited: new Promise<number | null>((res) => child.on("exit", (code) => res(code))),
      kill: () => void child.kill("SIGKILL"),
    };
  }
  return Object.assign(handle, {
    ...transport,
    frames,
    stdout,
    stderr,
    waitFor(pred: (m: WorkerMessage) => boolean, timeoutMs = 10_000): Promise<WorkerMessage> {
      const seen = frames.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`timed out; frames: ${JSON.stringify(frames)}; stderr: ${stderr.join("")}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            res(m);
          },
        });
      });
    },
  }) as WorkerHandle;
}
