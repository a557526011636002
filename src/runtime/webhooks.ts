/**
 * Webhooks: a sender (timeouts, retries with backoff for terminal events, bearer auth, injectable
 * headers so the /v1 facade can sign) and the per-prediction subscription that filters and throttles.
 * A dead or slow receiver never fails a prediction nor blocks the server: everything is fire-and-forget.
 */
import type { Prediction, PredictionEvent } from "./core/prediction.js";
import type { Logger } from "./logger.js";

export type WebhookEvent = "start" | "output" | "logs" | "completed";
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ["start", "output", "logs", "completed"];

/** Delays before retries 2..11 of a terminal webhook: 11 tries over ~60 s. */
export const DEFAULT_RETRY_DELAYS_MS = [100, 200, 500, 1000, 2000, 4000, 8000, 12000, 16000, 16000];

export interface WebhookSenderOptions {
  authToken?: string | undefined;
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  logger: Logger;
  /** Extra headers per request body (e.g. Standard Webhooks signatures for /v1). */
  headers?: (body: string) => Record<string, string>;
}

export class WebhookSender {
  private readonly retryDelays: readonly number[];
  private readonly timeoutMs: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: WebhookSenderOptions) {
    this.retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Sends one webhook; `terminal` ones are retried on 429/5xx/network errors. Never rejects. */
  send(url: string, payload: unknown, terminal: boolean): Promise<void> {
    const job = this.deliver(url, JSON.stringify(payload), terminal).catch((err: unknown) => {
      this.options.logger.warn("webhook failed", { url: redactUrl(url), err });
    });
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
    return job;
  }

  /** Waits (bounded) for in-progress deliveries, e.g. before the process exits. */
  async flush(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.all(this.pending), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private async deliver(url: string, body: string, terminal: boolean): Promise<void> {
    const attempts = terminal ? this.retryDelays.length + 1 : 1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, this.retryDelays[attempt - 1]));
      let retryable: boolean;
      let why: string;
      try {
        const headers: Record<string, string> = {
          "content-type": "application/json",
          ...this.options.headers?.(body),
        };
        if (this.options.authToken) headers.authorization = `Bearer ${this.options.authToken}`;
        const res = await fetch(url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) return;
        retryable = res.status === 429 || res.status >= 500;
        why = `HTTP ${res.status}`;
      } catch (err) {
        retryable = true;
        why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      }
      if (!retryable) throw new Error(`receiver answered ${why}`);
      if (attempt < attempts - 1)
        this.options.logger.debug("webhook retry", { url: redactUrl(url), attempt: attempt + 1, why });
      else throw new Error(`gave up after ${attempts} attempt(s): ${why}`);
    }
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "<invalid url>";
  }
}

export interface AttachOptions {
  url: string;
  filter: ReadonlySet<WebhookEvent>;
  throttleMs: number;
  sender: WebhookSender;
  /** The body for the prediction's state at send time (container JSON or /v1 JSON). */
  render: (p: Prediction) => unknown;
}

/**
 * Subscribes a webhook to a prediction. Sends are queued so the receiver sees them in order; the body is
 * rendered at send time (so the queue holds markers, not snapshots). `logs` is throttled to one per
 * interval (with a trailing send); `start`/`output` are never dropped; `completed` is retried.
 */
export function attachWebhook(p: Prediction, o: AttachOptions): void {
  let queue: Promise<void> = Promise.resolve();
  let lastLogsSend = 0;
  let logsTimer: NodeJS.Timeout | null = null;
  let completedAt = 0;
  const enqueue = (terminal: boolean, snapshot?: unknown): void => {
    queue = queue.then(() => {
      // Progress sends still queued 5 s after the end are stale (the final body has everything): skip
      // them so a slow receiver does not hold the completed webhook back indefinitely.
      if (!terminal && completedAt > 0 && Date.now() - completedAt > 5000) return;
      return o.sender.send(o.url, terminal ? snapshot : o.render(p), terminal);
    });
  };
  const sendLogs = (): void => {
    logsTimer = null;
    lastLogsSend = Date.now();
    enqueue(false);
  };
  p.subscribe((event: PredictionEvent) => {
    switch (event.type) {
      case "start":
        if (o.filter.has("start")) enqueue(false);
        return;
      case "output":
        if (o.filter.has("output")) enqueue(false);
        return;
      case "log": {
        if (!o.filter.has("logs") || logsTimer) return;
        const wait = lastLogsSend + o.throttleMs - Date.now();
        if (wait <= 0) sendLogs();
        else logsTimer = setTimeout(sendLogs, wait);
        return;
      }
      case "completed":
        if (logsTimer) clearTimeout(logsTimer);
        logsTimer = null;
        completedAt = Date.now();
        // Render now: the terminal body must be the final state even if earlier sends are slow.
        if (o.filter.has("completed")) enqueue(true, o.render(p));
        return;
      default:
        return;
    }
  });
}
