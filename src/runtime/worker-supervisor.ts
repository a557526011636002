/**
 * Starts the predictor worker and speaks the framed protocol with it. Two carriers, one protocol:
 * a child process (worker-process.ts: Python, or node with KILN_NODE_WORKER_MODE=process) or a worker
 * thread of this process (worker-thread.ts: the default for node). The user's raw stdout/stderr are
 * surfaced as `userOutput` events for the runner to attribute. The supervisor can start the worker
 * again after it exited (`start()` once more): whether and when is the restart policy's call
 * (health.ts), which also reports every restart. A thread that cannot host the predictor (a native
 * addon that is not context-aware) hands it over to a process, once, with a warning.
 *
 * `start({ hold: true })` lets main.ts start the worker first thing, before the rest of the server has
 * loaded, so the two boot at the same time: the worker's events queue until `release()`, when the
 * server's listeners are in place, and nothing it said is lost.
 */
import { EventEmitter } from "node:events";
import { encodeFrame, type ServerMessage, type WorkerMessage } from "./protocol.js";
import type { Logger } from "./logger.js";
import { startProcessWorker } from "./worker-process.js";
import { startThreadWorker, type ThreadSpec } from "./worker-thread.js";

export interface WorkerCommand {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run it in a worker thread of this process instead (a node predictor, unless the mode is process). */
  thread?: ThreadSpec | undefined;
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

/** What a carrier reports to the supervisor. */
export interface TransportEvents {
  message(message: WorkerMessage): void;
  output(source: "stdout" | "stderr", data: string): void;
  protocolError(error: Error, line: string): void;
  exit(exit: WorkerExit): void;
}

/** One running worker, process or thread. */
export interface WorkerTransport {
  /** "pid 123" or "thread 4": which worker this is (a restart gives a new one). */
  readonly id: string;
  readonly pid: number | undefined;
  readonly bytesScanned: number;
  readonly bytesAttached: number;
  write(frame: string | readonly (string | Buffer)[]): boolean;
  /** Nothing more will be sent (the worker exits once it drained). */
  end(): void;
  /** Stops it now. */
  kill(): void;
  /** Stops it after `graceMs` if it has not gone by then; returns the canceller. */
  stop(graceMs: number): () => void;
}

// Keep the tail of stderr so a worker that dies before `loaded` can say why.
const STDERR_TAIL_BYTES = 8 * 1024;

export class WorkerSupervisor extends EventEmitter<WorkerSupervisorEvents> {
  private transport: WorkerTransport | null = null;
  private exited: WorkerExit | null = null;
  private killReason: string | null = null;
  private restartNow = false;
  private stderrTail = "";
  /** Events held back until release() (a worker started before its listeners existed). */
  private held: (() => void)[] | null = null;
  private sentBytes = 0;
  /** Set once a thread could not host the predictor: from then on it runs in a process. */
  private threadUnsupported: string | null = null;
  /** The last setup frame sent, for a worker that takes over from a thread during setup. */
  private setupFrame: string | null = null;

  constructor(
    private readonly spec: WorkerCommand,
    private readonly logger: Logger,
  ) {
    super();
  }

  get alive(): boolean {
    return this.transport !== null && this.exited === null;
  }

  /** The worker process's pid (undefined for a thread). */
  get pid(): number | undefined {
    return this.transport?.pid;
  }

  /** Which worker runs now ("pid 123", "thread 4"): a restart gives a new one. */
  get workerId(): string | undefined {
    return this.transport?.id;
  }

  /** How the worker runs now. */
  get mode(): "thread" | "process" | undefined {
    if (!this.transport) return undefined;
    return this.transport.pid === undefined ? "thread" : "process";
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
    if (this.alive) throw new Error("worker already started");
    if (options.hold) this.held ??= [];
    this.exited = null;
    this.killReason = null;
    this.restartNow = false;
    this.stderrTail = "";
    this.sentBytes = 0;
    const thread = this.threadUnsupported === null ? this.spec.thread : undefined;
    // A previous worker may still drain after a restart: only the current one is heard.
    let transport: WorkerTransport | null = null;
    let handedOver = false;
    // A thread that hands over after `loaded` (its setup() met the addon): the process's own `loaded`
    // is not news to the server, which is waiting for setup's answer; the process gets setup instead.
    let loadedSeen = false;
    let replaySetup: string | null = null;
    const current = (): boolean => transport !== null && this.transport === transport;
    const events: TransportEvents = {
      message: (m) => {
        if (!current()) return;
        if (m.type === "loaded") {
          if (replaySetup !== null) {
            const setup = replaySetup;
            replaySetup = null;
            transport?.write(setup);
            return;
          }
          loadedSeen = true;
        }
        this.deliver("message", m);
      },
      output: (source, data) => {
        if (!current()) return;
        if (source === "stderr") this.stderrTail = (this.stderrTail + data).slice(-STDERR_TAIL_BYTES);
        this.deliver("userOutput", source, data);
      },
      protocolError: (error, line) => {
        if (!current()) return;
        this.logger.error("worker sent an invalid frame; stopping it", { error, line: line.slice(0, 200) });
        this.kill("the worker broke the protocol (invalid frame)");
      },
      exit: (exit) => {
        if (!current()) return;
        if (handedOver) {
          handedOver = false;
          if (loadedSeen) replaySetup = this.setupFrame;
          return this.startProcess(events, (t) => (transport = t));
        }
        this.finish({ ...exit, reason: this.killReason ?? exit.reason, restartNow: this.restartNow });
      },
    };
    if (thread) {
      this.logger.debug("starting worker thread", { entry: thread.entry, argv: thread.argv });
      transport = startThreadWorker(thread, {
        ...events,
        unsupported: (reason) => {
          if (!current()) return;
          this.threadUnsupported = reason;
          handedOver = true;
          this.logger.warn(
            "the predictor cannot run in a worker thread; running it in a process of its own (KILN_NODE_WORKER_MODE=process skips the attempt)",
            { reason },
          );
        },
      });
      this.transport = transport;
    } else {
      this.startProcess(events, (t) => (transport = t));
    }
  }

  private startProcess(events: TransportEvents, adopt: (t: WorkerTransport) => void): void {
    this.logger.debug("starting worker", { command: this.spec.command, args: this.spec.args });
    const transport = startProcessWorker(this.spec, events);
    adopt(transport);
    this.transport = transport;
  }

  /**
   * Protocol bytes exchanged with the current worker: sent, and received (scanned as lines, or taken
   * as attachments). Tests check with them that files cross as paths, never as their contents.
   */
  get frameBytes(): { sent: number; scanned: number; attached: number } {
    return {
      sent: this.sentBytes,
      scanned: this.transport?.bytesScanned ?? 0,
      attached: this.transport?.bytesAttached ?? 0,
    };
  }

  send(message: ServerMessage): boolean {
    const frame = encodeFrame(message);
    if (message.type === "setup") this.setupFrame = frame;
    return this.sendFrame(frame);
  }

  /** Writes one frame already encoded (whole, or in pieces written back to back). */
  sendFrame(frame: string | readonly (string | Buffer)[]): boolean {
    if (!this.alive || !this.transport) return false;
    if (!this.transport.write(frame)) return false;
    // characters: the count is for tests, not exact for non-ASCII
    if (typeof frame === "string") this.sentBytes += frame.length;
    else for (const piece of frame) this.sentBytes += piece.length;
    return true;
  }

  /** Hard stop (SIGKILL, or terminating the thread): setup timeout, protocol errors, ignored cancels. */
  kill(reason: string, options: { restart?: boolean } = {}): void {
    if (!this.alive) return;
    this.killReason ??= reason;
    if (options.restart) this.restartNow = true;
    this.transport?.kill();
  }

  /** Polite stop: `shutdown` frame and end of input, then harder ways after `graceMs` each. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.alive || !this.transport) return;
    const gone = new Promise<void>((resolve) => this.once("exit", () => resolve()));
    this.killReason ??= "the server stopped the worker";
    this.send({ type: "shutdown" });
    this.transport.end();
    const cancel = this.transport.stop(graceMs);
    await gone;
    cancel();
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
