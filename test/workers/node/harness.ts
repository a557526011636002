/**
 * Spawns the real node worker (bundled from src with esbuild, as the runtime bundle does) with the
 * protocol pipes on fds 3/4, and records every frame it sends.
 */
import { spawn, type ChildProcess } from "node:child_process";
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
  child: ChildProcess;
  frames: WorkerMessage[];
  stdout: string[];
  stderr: string[];
  send(message: ServerMessage): void;
  /** Resolves with the first frame (after `from` frames) matching the predicate. */
  waitFor<T extends WorkerMessage>(pred: (m: WorkerMessage) => m is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (m: WorkerMessage) => boolean, timeoutMs?: number): Promise<WorkerMessage>;
  exited: Promise<number | null>;
  kill(): void;
}

export async function startWorker(args: string[], env: Record<string, string> = {}): Promise<WorkerHandle> {
  const bundle = await workerBundle();
  const child = spawn(process.execPath, [bundle, ...args], {
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const frames: WorkerMessage[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }[] = [];
  const decoder = new FrameDecoder<WorkerMessage>(
    (m) => {
      frames.push(m);
      for (const w of [...waiters]) {
        if (w.pred(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    },
    (err) => {
      throw err;
    },
  );
  (child.stdio[4] as Readable).on("data", (c: Buffer) => decoder.push(c));
  child.stdout?.on("data", (c: Buffer) => stdout.push(c.toString()));
  child.stderr?.on("data", (c: Buffer) => stderr.push(c.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const toWorker = child.stdio[3] as Writable;
  toWorker.on("error", () => undefined);
  return {
    child,
    frames,
    stdout,
    stderr,
    send: (m) => void toWorker.write(encodeFrame(m)),
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
    exited,
    kill: () => void child.kill("SIGKILL"),
  } as WorkerHandle;
}
