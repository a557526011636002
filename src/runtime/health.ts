/**
 * Model lifecycle and health: drives the worker through loaded -> setup -> ready (with COG_SETUP_TIMEOUT),
 * keeps setup logs, runs the user's healthcheck() (5 s timeout) and computes the /health-check status.
 *
 * Restart policy: a worker that dies after setup succeeded is started again (setup runs again) after a
 * backoff of 1, 2, 4, 8, 16, then 30 s; the backoff resets once a worker has stayed up for 60 s. After
 * `maxRestarts` consecutive restarts without such a stable minute the server gives up and is DEFUNCT.
 * While restarting, /health-check says STARTING with `restarts` and `last_worker_exit`, and every restart
 * is logged. Setup that fails (or times out) is never retried: that is SETUP_FAILED, as before.
 */
import { EventEmitter } from "node:events";
import type { LoadedMessage, WorkerMessage } from "./protocol.js";
import type { WorkerExit, WorkerSupervisor } from "./worker-supervisor.js";
import type { Logger } from "./logger.js";

export type HealthStatus = "STARTING" | "READY" | "BUSY" | "SETUP_FAILED" | "DEFUNCT" | "UNHEALTHY";
type Phase = "loading" | "setup" | "ready" | "setup_failed" | "restarting" | "defunct";

export interface SetupRecord {
  started_at: string | null;
  completed_at: string | null;
  status: "starting" | "succeeded" | "failed" | null;
  logs: string;
}

export interface HealthOptions {
  setupTimeoutMs?: number | undefined;
  healthcheckTimeoutMs?: number;
  weights: string | null;
  logger: Logger;
  /** Consecutive restarts of a dead worker before giving up (0: never restart). */
  maxRestarts?: number | undefined;
  /** Delays before restart 1, 2, ... (the last one repeats). */
  restartBackoffMs?: readonly number[] | undefined;
  /** A worker up this long resets the backoff. */
  stableMs?: number | undefined;
}

const MAX_SETUP_LOG_BYTES = 1024 * 1024;
const DEFAULT_MAX_RESTARTS = 10;
const DEFAULT_RESTART_BACKOFF_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 30000];
const DEFAULT_STABLE_MS = 60_000;

export class Health extends EventEmitter<{
  ready: [];
  failed: [string];
  defunct: [string];
  restarting: [string];
}> {
  phase: Phase = "loading";
  loaded: LoadedMessage | null = null;
  readonly setup: SetupRecord = { started_at: null, completed_at: null, status: null, logs: "" };
  setupError: string | null = null;
  defunctReason: string | null = null;
  userHealthcheckError: string | null = null;
  private setupTimer: NodeJS.Timeout | null = null;
  private hcSeq = 0;
  private hcPending: Promise<void> | null = null;
  private readonly hcWaiters = new Map<number, (ok: boolean, error?: string) => void>();
  private readonly healthcheckTimeoutMs: number;
  private stopping = false;
  /** Workers started again after dying; `consecutive` resets after a stable minute. */
  restarts = 0;
  lastWorkerExit: string | null = null;
  private consecutive = 0;
  private readyAt = 0;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly worker: WorkerSupervisor,
    private readonly options: HealthOptions,
  ) {
    super();
    this.healthcheckTimeoutMs = options.healthcheckTimeoutMs ?? 5000;
    worker.on("message", (m) => this.onMessage(m));
    worker.on("exit", (e) => this.onExit(e));
  }

  get ready(): boolean {
    return this.phase === "ready";
  }

  /** The /health-check status; `busy` says whether every slot is taken. */
  status(busy: boolean): HealthStatus {
    switch (this.phase) {
      case "loading":
      case "setup":
      case "restarting":
        return "STARTING";
      case "setup_failed":
        return "SETUP_FAILED";
      case "defunct":
        return "DEFUNCT";
      case "ready":
        if (this.userHealthcheckError !== null) return "UNHEALTHY";
        return busy ? "BUSY" : "READY";
    }
  }

  /** Raw worker output outside any prediction while setting up goes to setup.logs. */
  addSetupLog(data: string): boolean {
    if (this.phase !== "loading" && this.phase !== "setup") return false;
    if (this.setup.logs.length < MAX_SETUP_LOG_BYTES) this.setup.logs += data;
    return true;
  }

  /** Runs the user's healthcheck() if it has one; concurrent callers share one probe. */
  async runUserHealthcheck(): Promise<void> {
    if (!this.ready || !this.loaded?.hasHealthcheck) return;
    this.hcPending ??= this.probe().finally(() => (this.hcPending = null));
    return this.hcPending;
  }

  private async probe(): Promise<void> {
    const seq = ++this.hcSeq;
    const result = await new Promise<{ ok: boolean; error?: string | undefined }>((resolve) => {
      const timer = setTimeout(() => {
        this.hcWaiters.delete(seq);
        // Cog's wording, which monitoring built for Cog containers may match on.
        const seconds = (this.healthcheckTimeoutMs / 1000).toFixed(1);
        resolve({ ok: false, error: `user-defined healthcheck timed out after ${seconds} seconds` });
      }, this.healthcheckTimeoutMs);
      this.hcWaiters.set(seq, (ok, error) => {
        clearTimeout(timer);
        resolve({ ok, error });
      });
      if (!this.worker.send({ type: "healthcheck", seq })) this.hcWaiters.get(seq)?.(true);
    });
    this.userHealthcheckError = result.ok
      ? null
      : (result.error ?? "user-defined healthcheck returned False");
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case "loaded":
        if (this.phase !== "loading") return;
        this.loaded = m;
        this.phase = "setup";
        this.setup.started_at = new Date().toISOString();
        this.setup.status = "starting";
        this.worker.send({ type: "setup", weights: this.options.weights });
        if (this.options.setupTimeoutMs && this.options.setupTimeoutMs > 0) {
          this.setupTimer = setTimeout(() => this.onSetupTimeout(), this.options.setupTimeoutMs);
        }
        return;
      case "ready":
        if (this.phase !== "setup") return;
        this.clearSetupTimer();
        this.phase = "ready";
        this.readyAt = Date.now();
        this.setup.completed_at = new Date().toISOString();
        this.setup.status = "succeeded";
        this.options.logger.info("setup completed", { seconds: this.setupSeconds() });
        this.emit("ready");
        return;
      case "setup_failed":
        this.failSetup(m.error);
        return;
      case "healthcheck_result":
        this.hcWaiters.get(m.seq)?.(m.ok, m.error);
        this.hcWaiters.delete(m.seq);
        return;
      default:
        return;
    }
  }

  private onSetupTimeout(): void {
    const seconds = (this.options.setupTimeoutMs ?? 0) / 1000;
    this.failSetup(`setup() did not finish within COG_SETUP_TIMEOUT (${seconds} s)`);
    this.worker.kill("setup timed out");
  }

  private failSetup(error: string): void {
    if (this.phase !== "loading" && this.phase !== "setup") return;
    this.clearSetupTimer();
    this.phase = "setup_failed";
    this.setupError = error;
    this.setup.started_at ??= new Date().toISOString();
    this.setup.completed_at = new Date().toISOString();
    this.setup.status = "failed";
    if (!this.setup.logs.includes(error))
      this.setup.logs += `${this.setup.logs && !this.setup.logs.endsWith("\n") ? "\n" : ""}${error}\n`;
    this.options.logger.error("setup failed", { error });
    this.emit("failed", error);
  }

  private onExit(exit: WorkerExit): void {
    for (const w of this.hcWaiters.values()) w(false, "the worker is gone");
    this.hcWaiters.clear();
    if (this.phase === "loading" || this.phase === "setup") {
      const tail = this.worker.recentStderr.trim().split("\n").slice(-5).join("\n");
      this.failSetup(`${exit.reason} before setup completed${tail ? `: ${tail}` : ""}`);
      return;
    }
    if (this.phase === "ready") {
      this.lastWorkerExit = exit.reason;
      if (!this.stopping && this.scheduleRestart(exit.reason, exit.restartNow === true)) return;
      this.phase = "defunct";
      this.defunctReason = exit.reason;
      if (!this.stopping)
        this.options.logger.error("worker is gone; the server is DEFUNCT", {
          reason: exit.reason,
          restarts: this.restarts,
        });
      this.emit("defunct", exit.reason);
    }
  }

  /** Plans the next start of a dead worker; false when the policy says give up. */
  private scheduleRestart(reason: string, now: boolean): boolean {
    const max = this.options.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    if (max <= 0) return false;
    if (Date.now() - this.readyAt >= (this.options.stableMs ?? DEFAULT_STABLE_MS)) this.consecutive = 0;
    if (this.consecutive >= max) return false;
    const backoff = this.options.restartBackoffMs ?? DEFAULT_RESTART_BACKOFF_MS;
    // A worker the server killed on purpose (cancel ignored) comes back at once, without backoff.
    const delay = now ? 0 : (backoff[Math.min(this.consecutive, backoff.length - 1)] ?? 1000);
    if (!now) this.consecutive++;
    this.phase = "restarting";
    this.options.logger.error("worker is gone; restarting it (setup runs again)", {
      reason,
      restart: this.restarts + 1,
      in_ms: delay,
    });
    this.emit("restarting", reason);
    this.restartTimer = setTimeout(() => this.restartNow(), delay);
    return true;
  }

  private restartNow(): void {
    this.restartTimer = null;
    if (this.stopping || this.phase !== "restarting") return;
    this.restarts++;
    this.phase = "loading";
    // `loaded` (the schema) is kept: the same program is started again, and /v1 can queue meanwhile.
    this.userHealthcheckError = null;
    Object.assign(this.setup, { started_at: null, completed_at: null, status: null, logs: "" });
    this.worker.start();
  }

  private clearSetupTimer(): void {
    if (this.setupTimer) clearTimeout(this.setupTimer);
    this.setupTimer = null;
  }

  private setupSeconds(): number | undefined {
    if (!this.setup.started_at || !this.setup.completed_at) return undefined;
    return (Date.parse(this.setup.completed_at) - Date.parse(this.setup.started_at)) / 1000;
  }

  /** The server is shutting down: the worker's exit is expected, not an incident. */
  markStopping(): void {
    this.stopping = true;
  }

  dispose(): void {
    this.clearSetupTimer();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}
