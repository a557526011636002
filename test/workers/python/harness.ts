/**
 * Test harness for the Python worker: spawns the real `python3 kiln_worker.py` with fds 3/4 as pipes and
 * speaks src/runtime/protocol.ts to it, exactly as the server does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";
import { FrameDecoder, encodeFrame } from "../../../src/runtime/protocol.js";
import type { ServerMessage, WorkerMessage } from "../../../src/runtime/protocol.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "../../..");
export const WORKER_DIR = path.join(REPO_ROOT, "src/runtime/workers/python");
export const WORKER_PATH = path.join(WORKER_DIR, "kiln_worker.py");
export const FIXTURES = path.join(REPO_ROOT, "test/fixtures/python");
export const PYTHON = process.env.KILN_TEST_PYTHON ?? "python3";

export interface WorkerOptions {
  /** Fixture directory name under test/fixtures/python, or an absolute project root. */
  root: string;
  predictor?: string;
  train?: string;
  env?: Record<string, string>;
}

type Terminal = Extract<WorkerMessage, { type: "done" | "failed" | "canceled" }>;

export interface PredictionResult {
  terminal: Terminal;
  /** Every message about this prediction, in order (logs, chunks, metrics, terminal). */
  messages: WorkerMessage[];
  chunks: unknown[];
  logs: string;
  metrics: Extract<WorkerMessage, { type: "metric" }>[];
}

export class PythonWorker {
  readonly messages: WorkerMessage[] = [];
  /** Reads of fd 4 so far: frames the worker wrote together (under PIPE_BUF) arrive in one. */
  reads = 0;
  stdout = "";
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly toWorker: Writable;
  private waiters: { test: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }[] = [];
  // Each returns true once it is satisfied (and is dropped).
  private stderrWaiters: (() => boolean)[] = [];

  constructor(opts: WorkerOptions) {
    const root = path.isAbsolute(opts.root) ? opts.root : path.join(FIXTURES, opts.root);
    const args = ["-u", WORKER_PATH, "--predictor", opts.predictor ?? "predict.py:Predictor", "--root", root];
    if (opts.train) args.push("--train", opts.train);
    this.child = spawn(PYTHON, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      env: { ...process.env, PYTHONPATH: WORKER_DIR, PYTHONDONTWRITEBYTECODE: "1", ...opts.env },
    });
    this.toWorker = this.child.stdio[3] as Writable;
    const fromWorker = this.child.stdio[4] as Readable;
    const decoder = new FrameDecoder<WorkerMessage>(
      (m) => this.onMessage(m),
      (err, line) => {
        throw new Error(`worker sent a malformed frame (${err.message}): ${line}`);
      },
    );
    fromWorker.on("data", (chunk: Buffer) => {
      this.reads++;
      decoder.push(chunk);
    });
    this.child.stdout?.on("data", (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr?.on("data", (c: Buffer) => {
      this.stderr += c.toString();
      this.stderrWaiters = this.stderrWaiters.filter((w) => !w());
    });
    this.toWorker.on("error", () => undefined);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: ServerMessage): void {
    this.toWorker.write(encodeFrame(message));
  }

  /** Resolves once fd 2 (the worker's own stderr, not the user's prints) has `count` matches of `pattern`. */
  waitStderr(pattern: RegExp, count = 1, timeoutMs = 15_000): Promise<void> {
    const global = new RegExp(pattern.source, "g");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${count} × ${pattern} on stderr: ${this.stderr}`)),
        timeoutMs,
      );
      const check = (): boolean => {
        if ((this.stderr.match(global)?.length ?? 0) < count) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (!check()) this.stderrWaiters.push(check);
    });
  }

  /** Bytes as they are, for frames no server would send (malformed ones). */
  sendRaw(bytes: Buffer | string): void {
    this.toWorker.write(bytes);
  }

  /** Resolves with the first message (already received or future) matching `test`. */
  waitFor(test: (m: WorkerMessage) => boolean, timeoutMs = 15_000): Promise<WorkerMessage> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out waiting for a worker message; got ${JSON.stringify(this.messages)}\nstderr: ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  waitType<T extends WorkerMessage["type"]>(
    type: T,
    timeoutMs?: number,
  ): Promise<Extract<WorkerMessage, { type: T }>> {
    return this.waitFor((m) => m.type === type, timeoutMs) as Promise<Extract<WorkerMessage, { type: T }>>;
  }

  /** Sends setup and waits for ready or setup_failed. */
  async setup(
    weights: string | null = null,
  ): Promise<Extract<WorkerMessage, { type: "ready" | "setup_failed" }>> {
    this.send({ type: "setup", weights });
    const m = await this.waitFor((x) => x.type === "ready" || x.type === "setup_failed");
    return m as Extract<WorkerMessage, { type: "ready" | "setup_failed" }>;
  }

  async predict(
    id: string,
    input: Record<string, unknown> = {},
    opts: { context?: Record<string, string>; kind?: "predict" | "train"; timeoutMs?: number } = {},
  ): Promise<PredictionResult> {
    this.send({ type: "predict", id, kind: opts.kind ?? "predict", input, context: opts.context ?? {} });
    return this.result(id, opts.timeoutMs);
  }

  /** Waits for the terminal message of `id` and gathers everything about it. */
  async result(id: string, timeoutMs?: number): Promise<PredictionResult> {
    const terminal = (await this.waitFor(
      (m) => (m.type === "done" || m.type === "failed" || m.type === "canceled") && m.id === id,
      timeoutMs,
    )) as Terminal;
    const messages = this.messages.filter((m) => "id" in m && m.id === id);
    return {
      terminal,
      messages,
      chunks: messages.flatMap((m) => (m.type === "output" ? [m.chunk] : [])),
      logs: messages.map((m) => (m.type === "log" ? m.data : "")).join(""),
      metrics: messages.filter((m): m is Extract<WorkerMessage, { type: "metric" }> => m.type === "metric"),
    };
  }

  /** Logs sent with id null (import time and setup). */
  setupLogs(): string {
    return this.messages.map((m) => (m.type === "log" && m.id === null ? m.data : "")).join("");
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send({ type: "shutdown" });
      this.toWorker.end();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private onMessage(m: WorkerMessage): void {
    this.messages.push(m);
    const remaining: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.test(m)) w.resolve(m);
      else remaining.push(w);
    }
    this.waiters = remaining;
  }
}

/** Starts a worker, waits for `loaded`, runs setup and expects `ready`. */
export async function readyWorker(opts: WorkerOptions): Promise<PythonWorker> {
  const worker = new PythonWorker(opts);
  await worker.waitType("loaded");
  const result = await worker.setup();
  if (result.type !== "ready") {
    await worker.close();
    throw new Error(`setup failed: ${result.error}`);
  }
  return worker;
}

/** Runs `kiln_worker.py --schema-only`. */
export function schemaOnly(
  opts: WorkerOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = path.isAbsolute(opts.root) ? opts.root : path.join(FIXTURES, opts.root);
  const args = [
    WORKER_PATH,
    "--predictor",
    opts.predictor ?? "predict.py:Predictor",
    "--root",
    root,
    "--schema-only",
  ];
  if (opts.train) args.push("--train", opts.train);
  return new Promise((resolve) => {
    const child = spawn(PYTHON, args, {
      cwd: root,
      env: { ...process.env, PYTHONPATH: WORKER_DIR, PYTHONDONTWRITEBYTECODE: "1", ...opts.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
