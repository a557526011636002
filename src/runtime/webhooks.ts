/**
 * Webhooks: a sender (timeouts, retries with backoff for terminal events, bearer auth, injectable
 * headers so the /v1 facade can sign) and the per-prediction subscription that filters and throttles.
 * A dead or slow receiver never fails a prediction nor blocks the server: everything is fire-and-forget.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { request as httpRequest } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { Prediction, PredictionEvent } from "./core/prediction.js";
import type { Logger } from "./logger.js";
import { stringifyJson } from "./raw-json.js";

/** A webhook's JSON body: one string, or pieces (a big output kept as the worker's bytes). */
export type WebhookBody = string | readonly Buffer[];

export type WebhookEvent = "start" | "output" | "logs" | "completed";
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ["start", "output", "logs", "completed"];

/** Delays before retries 2..11 of a terminal webhook: 11 tries over ~60 s. */
const DEFAULT_RETRY_DELAYS_MS = [100, 200, 500, 1000, 2000, 4000, 8000, 12000, 16000, 16000];

export interface WebhookSenderOptions {
  authToken?: string | undefined;
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  logger: Logger;
  /** Extra headers per request body (e.g. Standard Webhooks signatures for /v1). */
  headers?: (body: WebhookBody) => Record<string, string>;
}

export class WebhookSender {
  private readonly retryDelays: readonly number[];
  private readonly timeoutMs: number;
  private readonly pending = new Set<Promise<void>>();
  // Aborted by close(): stops retries (and their sleeps) so nothing outlives the drain.
  private readonly stopped = new AbortController();

  constructor(private readonly options: WebhookSenderOptions) {
    this.retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Sends one webhook; `terminal` ones are retried on 429/5xx/network errors. Never rejects. */
  send(url: string, payload: unknown, terminal: boolean): Promise<void> {
    // Serialized once for every attempt; a big output kept as bytes goes out as those bytes.
    const json = stringifyJson(payload);
    const body =
      typeof json === "string" ? json : json.map((c) => (typeof c === "string" ? Buffer.from(c) : c));
    const job = this.deliver(url, body, terminal).catch((err: unknown) => {
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

  /** Flushes for at most `timeoutMs`, then abandons what is left (logged): the bounded drain. */
  async close(timeoutMs: number): Promise<void> {
    await this.flush(timeoutMs);
    const left = this.pending.size;
    this.stopped.abort();
    if (left > 0) {
      this.options.logger.warn("shutting down: abandoning webhook deliveries still retrying", {
        count: left,
      });
      await Promise.allSettled(this.pending);
    }
  }

  private async deliver(rawUrl: string, body: WebhookBody, terminal: boolean): Promise<void> {
    // Credentials in the URL (`user:pass@`) become Basic auth on the bare URL.
    const { url, basic } = splitCredentials(rawUrl);
    const attempts = terminal ? this.retryDelays.length + 1 : 1;
    const stopped = this.stopped.signal;
    const length = String(
      typeof body === "string" ? Buffer.byteLength(body) : body.reduce((n, b) => n + b.length, 0),
    );
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (stopped.aborted) throw new Error("the server is shutting down");
      if (attempt > 0) await abortableSleep(this.retryDelays[attempt - 1] ?? 0, stopped);
      if (stopped.aborted) throw new Error("the server is shutting down");
      let retryable: boolean;
      let why: string;
      try {
        // Per attempt: a signature may carry the time it was made.
        const headers: Record<string, string> = {
          "content-type": "application/json",
          ...this.options.headers?.(body),
          "content-length": length,
        };
        if (basic) headers.authorization = basic;
        else if (this.options.authToken) headers.authorization = `Bearer ${this.options.authToken}`;
        const status = await postFollowing(url, headers, body, this.timeoutMs, stopped);
        if (status >= 200 && status < 300) return;
        retryable = status === 429 || status >= 500;
        why = `HTTP ${status}`;
        if (status >= 300 && status < 400) {
          retryable = false;
          why += " (a redirect that would drop the body is not followed: only 307 and 308 are)";
        }
      } catch (err) {
        if (err instanceof RedirectError) throw err;
        retryable = true;
        why = (err as Error).message;
      }
      if (!retryable) throw new Error(`receiver answered ${why}`);
      if (attempt < attempts - 1)
        this.options.logger.debug("webhook retry", { url: redactUrl(url), attempt: attempt + 1, why });
      else throw new Error(`gave up after ${attempts} attempt(s): ${why}`);
    }
  }
}

/** Redirect hops a webhook follows (307/308, the method and body kept) before it gives up. */
const MAX_REDIRECTS = 5;

class RedirectError extends Error {}

/**
 * POSTs `body` to `url` and returns the final status, following 307/308 redirects with the same body
 * (the Authorization header only to the same origin). node:http rather than fetch: the server already
 * has it loaded, so the first webhook costs no loading and compiling of undici on the event loop, and
 * a body in pieces is written as it is, with backpressure.
 */
async function postFollowing(
  url: string,
  headers: Record<string, string>,
  body: WebhookBody,
  timeoutMs: number,
  stopped: AbortSignal,
): Promise<number> {
  let target = new URL(url);
  const origin = target.origin;
  for (let hop = 0; ; hop++) {
    const sendHeaders = { ...headers };
    if (target.origin !== origin) delete sendHeaders.authorization;
    const res = await post(target, sendHeaders, body, timeoutMs, stopped);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    res.on("error", () => undefined); // a reset after the status line changes nothing
    res.resume(); // the receiver's answer body is not needed
    if ((status !== 307 && status !== 308) || location === undefined) return status;
    if (hop >= MAX_REDIRECTS) throw new RedirectError(`receiver redirected more than ${MAX_REDIRECTS} times`);
    const next = new URL(location, target);
    if (next.protocol !== "http:" && next.protocol !== "https:")
      throw new RedirectError(`receiver redirected to a ${next.protocol} URL`);
    target = next;
  }
}

// Loaded on the first https webhook only (TLS is a big module the plain-http case never needs).
let httpsRequest: typeof httpRequest | null = null;

/** One POST; resolves with the response once its headers arrived. The timeout covers the whole request. */
async function post(
  url: URL,
  headers: Record<string, string>,
  body: WebhookBody,
  timeoutMs: number,
  stopped: AbortSignal,
): Promise<IncomingMessage> {
  let request = httpRequest;
  if (url.protocol === "https:") request = httpsRequest ??= (await import("node:https")).request;
  const options: RequestOptions = { method: "POST", headers, signal: stopped };
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, options);
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (): void => clearTimeout(timer);
    // `on`, not `once`: a request can fail twice (a write after it was destroyed), and an unheard
    // second error would be thrown.
    req.on("error", (err: Error) => {
      settle();
      reject(stopped.aborted ? new Error("the server is shutting down") : err);
    });
    req.once("response", (res) => {
      settle();
      resolve(res);
    });
    if (typeof body === "string") {
      req.end(body);
      return;
    }
    // Pieces are written as they are (no 100 MB concatenation), waiting for the socket to drain.
    let i = 0;
    const write = (): void => {
      while (i < body.length) {
        if (!req.write(body[i++]!)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

/** The URL without `user:pass@`, and those credentials as a Basic Authorization value. */
function splitCredentials(raw: string): { url: string; basic: string | null } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { url: raw, basic: null };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.toString(), basic: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` };
}

/** Waits `ms`, or less when `signal` aborts (shutdown: the last attempt is made at once). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
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
 * Subscribes a webhook to a prediction. Non-terminal events (`start`, `output`, `logs`, as filtered)
 * are coalesced: at most one send per throttle interval, and never more than one in flight, each
 * carrying the state at send time (so a burst of 500 output chunks costs a few sends, not 500 ever
 * larger ones). The first event goes out at once. `completed` is always sent (and retried), after any
 * progress send still in flight, so the receiver sees it last.
 */
export function attachWebhook(p: Prediction, o: AttachOptions): void {
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let lastSend = 0;
  const sendProgress = (): void => {
    timer = null;
    if (!dirty || p.terminal) return;
    dirty = false;
    lastSend = Date.now();
    inFlight = o.sender.send(o.url, o.render(p), false).finally(() => {
      inFlight = null;
      if (dirty) schedule();
    });
  };
  const schedule = (): void => {
    if (timer || inFlight || p.terminal) return;
    const wait = lastSend + o.throttleMs - Date.now();
    if (wait <= 0) sendProgress();
    else timer = setTimeout(sendProgress, wait);
  };
  p.subscribe((event: PredictionEvent) => {
    switch (event.type) {
      case "start":
      case "output":
      case "log":
        if (!o.filter.has(event.type === "log" ? "logs" : event.type)) return;
        dirty = true;
        schedule();
        return;
      case "completed": {
        if (timer) clearTimeout(timer);
        timer = null;
        dirty = false;
        if (!o.filter.has("completed")) return;
        // Render now: the terminal body is the final state, whatever happens to earlier sends.
        const body = o.render(p);
        const send = (): void => void o.sender.send(o.url, body, true);
        // A progress send still going (slow receiver) goes first, but it cannot hold the end back long.
        if (inFlight)
          void Promise.race([inFlight, new Promise((r) => setTimeout(r, PROGRESS_WAIT_MS))]).then(send);
        else send();
        return;
      }
      default:
        return;
    }
  });
}

// How long the terminal webhook waits for a progress send still in flight.
const PROGRESS_WAIT_MS = 1000;
