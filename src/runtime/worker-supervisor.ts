/**
 * Spawns the predictor worker (node or python3) and speaks the framed protocol with it (fd 3 out, fd 4
 * in). fd 1/fd 2 are the user's raw stdout/stderr, surfaced as `userOutput` events for the runner to
 * attribute. The supervisor can start the worker again after it exited (`start()` once more): whether
 * and when is the restart policy's call (health.ts), which also reports every restart.
 *
 * `start({ hold: true })` lets main.ts start the worker first thing, before the rest of the server has
 * loaded, so the two processes boot at the same time: the worker's events queue until `release()`,
 * when the server's listeners are in place, and nothing it said is lost.
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
  /** The server killed it on purpose and wants a fresh one at once (a cancel the model ignored). */
  restartNow?: boolean;
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
  private restartNow = false;
  private stderrTail = "";
  /** Events held back until release() (a worker started before its listeners existed). */
  private held: (() => void)[] | null = null;
  private decoder: FrameDecoder<WorkerMessage> | null = null;
  private sentBytes = 0;

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

  /** Starts the worker; after it exited, starts a fresh one (same command, setup runs again). */
  start(options: { hold?: boolean } = {}): void {
    if (this.child && !this.exited) throw new Error("worker already started");
    if (options.hold) this.held ??= [];
    this.exited = null;
    this.killReason = null;
    this.restartNow = false;
    this.stderrTail = "";
    this.logger.debug("starting worker", { command: this.spec.command, args: this.spec.args });
    // Its own process group: whatever the model starts (subprocesses, shells) is stopped with it, and a
    // Ctrl-C in the terminal reaches only the server, which decides how to stop.
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    const [, out, err, toWorker, fromWorker] = child.stdio as [null, Readable, Readable, Writable, Readable];
    this.toWorker = toWorker;
    // A worker that dies mid-write gives EPIPE here; the exit handler reports it.
    toWorker.on("error", () => undefined);
    out.setEncoding("utf8");
    err.setEncoding("utf8");
    // A previous worker's pipes may still drain after a restart: only the current one is heard.
    const current = (): boolean => this.child === child;
    out.on("data", (d: string) => {
      if (current()) this.deliver("userOutput", "stdout", d);
    });
    err.on("data", (d: string) => {
      if (!current()) return;
      this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL_BYTES);
      this.deliver("userOutput", "stderr", d);
    });
    const decoder = (this.decoder = new FrameDecoder<WorkerMessage>(
      (m) => {
        if (current()) this.deliver("message", m);
      },
      (error, line) => {
        this.logger.error("worker sent an invalid frame; stopping it", { error, line: line.slice(0, 200) });
        this.kill("the worker broke the protocol (invalid frame on fd 4)");
      },
    ));
    this.sentBytes = 0;
    fromWorker.on("data", (chunk: Buffer) => decoder.push(chunk));
    fromWorker.on("error", () => undefined);
    child.on("error", (error) => {
      // spawn failure (e.g. python3 missing): no 'exit' follows, so report it here
      if (current())
        this.finish({ code: null, signal: null, reason: `could not start the worker: ${error.message}` });
    });
    child.on("exit", (code, signal) => {
      // The worker is gone: what it started must not outlive it (nor hold its pipes open).
      signalGroup(child, "SIGKILL");
      const reason =
        this.killReason ??
        (signal ? `the worker was killed by ${signal}` : `the worker exited with code ${code ?? "?"}`);
      // 'exit' can precede the last frames and output still buffered in the pipes (e.g. a log line
      // written just before process.exit): wait for 'close' (all stdio drained), bounded in case a
      // grandchild keeps the pipes open.
      const done = (): void => {
        if (current()) this.finish({ code, signal, reason, restartNow: this.restartNow });
      };
      const timer = setTimeout(done, 1000);
      child.once("close", () => {
        clearTimeout(timer);
        done();
      });
    });
  }

  /**
   * Protocol bytes exchanged with the current worker: sent, and received (scanned as lines, or taken
   * as attachments). Tests check with them that files cross as paths, never as their contents.
   */
  get frameBytes(): { sent: number; scanned: number; attached: number } {
    return {
      sent: this.sentBytes,
      scanned: this.decoder?.bytesScanned ?? 0,
      attached: this.decoder?.bytesAttached ?? 0,
    };
  }

  send(message: ServerMessage): boolean {
    return this.sendFrame(encodeFrame(message));
  }

  /** Writes one frame already encoded (whole, or in pieces written back to back). */
  sendFrame(frame: string | readonly (string | Buffer)[]): boolean {
    if (!this.alive || !this.toWorker || this.toWorker.destroyed) return false;
    if (typeof frame === "string") {
      this.sentBytes += frame.length; // characters: the count is for tests, not exact for non-ASCII
      this.toWorker.write(frame);
    } else {
      this.toWorker.cork(); // the pieces leave in one writev
      for (const piece of frame) {
        this.sentBytes += piece.length;
        this.toWorker.write(piece);
      }
      this.toWorker.uncork();
    }
    return true;
  }

  /** Hard stop (SIGKILL): used for setup timeout, protocol errors and a worker that ignores shutdown. */
  kill(reason: string, options: { restart?: boolean } = {}): void {
    if (!this.alive) return;
    this.killReason ??= reason;
    if (options.restart) this.restartNow = true;
    if (this.child) signalGroup(this.child, "SIGKILL");
  }

  /** Polite stop: `shutdown` frame, then SIGTERM, then SIGKILL, each after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.alive) return;
    const gone = new Promise<void>((resolve) => this.once("exit", () => resolve()));
    this.killReason ??= "the server stopped the worker";
    this.send({ type: "shutdown" });
    this.toWorker?.end();
    const child = this.child;
    const term = setTimeout(() => {
      if (child) signalGroup(child, "SIGTERM");
    }, graceMs);
    const kill = setTimeout(() => {
      if (child) signalGroup(child, "SIGKILL");
    }, graceMs * 2);
    await gone;
    clearTimeout(term);
    clearTimeout(kill);
  }

  private finish(exit: WorkerExit): void {
    if (this.exited) return;
    this.exited = exit;
    this.logger.debug("worker exited", { ...exit });
    this.deliver("exit", exit);
  }

  /** Emits the events held since `start({ hold: true })`, in order, and every later one at once. */
  release(): void {
    const held = this.held;
    this.held = null;
    for (const emit of held ?? []) emit();
  }

  private deliver<K extends keyof WorkerSupervisorEvents>(
    event: K,
    ...args: WorkerSupervisorEvents[K]
  ): void {
    if (this.held) this.held.push(() => this.emit(event, ...(args as never)));
    else this.emit(event, ...(args as never));
  }
}

/** Signals the worker's whole process group (it leads one); falls back to the worker alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
