/**
 * Spawns the predictor worker (node or python3) and speaks the framed protocol with it (fd 3 out, fd 4
 * in). fd 1/fd 2 are the user's raw stdout/stderr, surfaced as `userOutput` events for the runner to
 * attribute. Crash policy: the worker is NOT restarted; in-flight work fails and health turns DEFUNCT,
 * like Cog (a restart would silently re-run setup() and hide the crash from orchestration).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import { FrameDecoder, encodeFrame, type ServerMessage, type WorkerMessage } from "./protocol.js";
import type { Logger } from "./logger.js";

export interface WorkerCommand {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the server considers the worker gone (protocol error, kill, crash). */
  reason: string;
}

export interface WorkerSupervisorEvents {
  message: [WorkerMessage];
  userOutput: ["stdout" | "stderr", string];
  exit: [WorkerExit];
}

// Keep the tail of stderr so a worker that dies before `loaded` can say why.
const STDERR_TAIL_BYTES = 8 * 1024;

export class WorkerSupervisor extends EventEmitter<WorkerSupervisorEvents> {
  private child: ChildProcess | null = null;
  private toWorker: Writable | null = null;
  private exited: WorkerExit | null = null;
  private killReason: string | null = null;
  private stderrTail = "";

  constructor(
    private readonly spec: WorkerCommand,
    private readonly logger: Logger,
  ) {
    super();
  }

  get alive(): boolean {
    return this.child !== null && this.exited === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exitInfo(): WorkerExit | null {
    return this.exited;
  }

  /** The last bytes the worker wrote to stderr (for setup-failure messages). */
  get recentStderr(): string {
    return this.stderrTail;
  }

  start(): void {
    if (this.child) throw new Error("worker already started");
    this.logger.debug("starting worker", { command: this.spec.command, args: this.spec.args });
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    this.child = child;
    const [, out, err, toWorker, fromWorker] = child.stdio as [null, Readable, Readable, Writable, Readable];
    this.toWorker = toWorker;
    // A worker that dies mid-write gives EPIPE here; the exit handler reports it.
    toWorker.on("error", () => undefined);
    out.setEncoding("utf8");
    err.setEncoding("utf8");
    out.on("data", (d: string) => this.emit("userOutput", "stdout", d));
    err.on("data", (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL_BYTES);
      this.emit("userOutput", "stderr", d);
    });
    const decoder = new FrameDecoder<WorkerMessage>(
      (m) => this.emit("message", m),
      (error, line) => {
        this.logger.error("worker sent an invalid frame; stopping it", { error, line: line.slice(0, 200) });
        this.kill("the worker broke the protocol (invalid frame on fd 4)");
      },
    );
    fromWorker.on("data", (chunk: Buffer) => decoder.push(chunk));
    fromWorker.on("error", () => undefined);
    child.on("error", (error) => {
      // spawn failure (e.g. python3 missing): no 'exit' follows, so report it here
      this.finish({ code: null, signal: null, reason: `could not start the worker: ${error.message}` });
    });
    child.on("exit", (code, signal) => {
      const reason =
        this.killReason ??
        (signal ? `the worker was killed by ${signal}` : `the worker exited with code ${code ?? "?"}`);
      // 'exit' can precede the last frames and output still buffered in the pipes (e.g. a log line
      // written just before process.exit): wait for 'close' (all stdio drained), bounded in case a
      // grandchild keeps the pipes open.
      const done = (): void => this.finish({ code, signal, reason });
      const timer = setTimeout(done, 1000);
      child.once("close", () => {
        clearTimeout(timer);
        done();
      });
    });
  }

  send(message: ServerMessage): boolean {
    if (!this.alive || !this.toWorker || this.toWorker.destroyed) return false;
    this.toWorker.write(encodeFrame(message));
    return true;
  }

  /** Hard stop (SIGKILL): used for setup timeout, protocol errors and a worker that ignores shutdown. */
  kill(reason: string): void {
    if (!this.alive) return;
    this.killReason ??= reason;
    this.child?.kill("SIGKILL");
  }

  /** Polite stop: `shutdown` frame, then SIGTERM, then SIGKILL, each after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.alive) return;
    const gone = new Promise<void>((resolve) => this.once("exit", () => resolve()));
    this.killReason ??= "the server stopped the worker";
    this.send({ type: "shutdown" });
    this.toWorker?.end();
    const term = setTimeout(() => this.child?.kill("SIGTERM"), graceMs);
    const kill = setTimeout(() => this.child?.kill("SIGKILL"), graceMs * 2);
    await gone;
    clearTimeout(term);
    clearTimeout(kill);
  }

  private finish(exit: WorkerExit): void {
    if (this.exited) return;
    this.exited = exit;
    this.logger.debug("worker exited", { ...exit });
    this.emit("exit", exit);
  }
}
