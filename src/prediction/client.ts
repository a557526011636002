/**
 * The CLI's client for a running model server (in a container or in-process with --no-docker):
 * wait for /health-check to say READY, send one prediction (SSE when the server offers it, plain
 * JSON otherwise, e.g. Cog images), cancel it on Ctrl-C. Speaks only the container HTTP API.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { InterruptedError, PredictionError, RuntimeStartError } from "../errors.js";
import type { Prediction } from "./outputs.js";
import { readSse } from "./sse.js";

export interface Health {
  status: string;
  setup?: { status?: string; logs?: string; started_at?: string; completed_at?: string } | null;
  [key: string]: unknown;
}

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Resolves with an exit status if the model process stops (container exited). */
  exited?: Promise<number> | undefined;
  /** The model's recent output, shown when it stops or times out. */
  tail?: (() => string[]) | undefined;
  intervalMs?: number;
  /**
   * The model's output as it arrives: each line cuts the current pause short, because a server logs
   * its changes ("server listening", "setup completed"), so READY is seen when it happens, not at the
   * next poll.
   */
  activity?: Activity | undefined;
  /**
   * True once the server said on its own output that it is READY (kiln's ready line, printed when its
   * status turns READY, once it listens): taken as the answer, without a /health-check round trip.
   */
  announced?: (() => boolean) | undefined;
}

/**
 * A wake-up call for a poller: `notify()` ends the pause `pause()` is in at once, or, between pauses
 * (a poll is in flight and may have answered "not yet"), the next pause before it starts.
 */
export class Activity {
  private wakers = new Set<() => void>();
  private missed = false;

  notify(): void {
    if (this.wakers.size === 0) {
      this.missed = true;
      return;
    }
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  /** Resolves after `ms`, on `notify()` (or one since the last pause), or on abort, whichever is first. */
  pause(ms: number, signal: AbortSignal): Promise<void> {
    if (this.missed) {
      this.missed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** Polls /health-check until READY (or BUSY); SETUP_FAILED, DEFUNCT, exit and timeout are errors. */
export async function waitForReady(url: string, opts: WaitOptions): Promise<Health> {
  const deadline = Date.now() + opts.timeoutMs;
  let exitStatus: number | undefined;
  const activity = opts.activity ?? new Activity();
  void opts.exited?.then((s) => {
    exitStatus = s;
    activity.notify(); // the container stopped: say so now, not at the next poll
  });
  let last: Health | undefined;
  for (;;) {
    if (opts.signal.aborted) throw new InterruptedError();
    if (exitStatus !== undefined) {
      throw new RuntimeStartError(
        `the model's container stopped (exit status ${exitStatus}) before it was ready`,
        {
          details: lastLines(opts.tail?.() ?? []),
        },
      );
    }
    if (opts.announced?.()) return { status: "READY" };
    last = await health(url, opts.signal).catch(() => undefined);
    if (last?.status === "READY" || last?.status === "BUSY") return last;
    if (last?.status === "SETUP_FAILED") throw notReadyError("SETUP_FAILED", last.setup?.logs ?? "");
    if (last?.status === "DEFUNCT") throw notReadyError("DEFUNCT", (opts.tail?.() ?? []).join("\n"));
    if (Date.now() > deadline) {
      throw new RuntimeStartError(
        `the model was not ready after ${Math.round(opts.timeoutMs / 1000)} s (status: ${last?.status ?? "not answering"})`,
        {
          details: lastLines(last?.setup?.logs?.split("\n") ?? opts.tail?.() ?? []),
          hint: "Raise --setup-timeout if setup() needs longer.",
        },
      );
    }
    await activity.pause(opts.intervalMs ?? 50, opts.signal);
  }
}

/** Why a model will not become ready: setup() failed (with its logs), or its worker died (its output). */
export function notReadyError(status: "SETUP_FAILED" | "DEFUNCT", output: string): RuntimeStartError {
  if (status === "SETUP_FAILED")
    return new RuntimeStartError("the model's setup() failed", {
      details: lastLines(output.split("\n")),
      hint: "Fix the error above in setup(); `kiln predict --debug` also shows the container's own log.",
    });
  return new RuntimeStartError("the model's worker process died during startup", {
    details: lastLines(output.split("\n")),
  });
}

/**
 * One request to the model's server over node:http, which the engine client has loaded already: the
 * first fetch() of a process loads undici (~20 ms of CPU), paid while the model's container boots on
 * the same cores. The model's URL is always plain http on this machine.
 */
function send(
  url: string,
  opts: {
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal | null;
  } = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: opts.method ?? "GET",
      headers: {
        ...opts.headers,
        ...(opts.body !== undefined ? { "content-length": String(Buffer.byteLength(opts.body)) } : {}),
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    req.once("response", resolve);
    req.once("error", reject);
    req.end(opts.body);
  });
}

/** The whole body of an answer as JSON (undefined when it is not JSON). */
async function jsonOf(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return parseJson(Buffer.concat(chunks).toString("utf8"));
}

const ok = (res: IncomingMessage): boolean => (res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 300;

/** One /health-check answer. */
export async function health(url: string, signal?: AbortSignal): Promise<Health> {
  const res = await send(`${url}/health-check`, { signal: signal ?? null });
  const body = await jsonOf(res);
  if (!isRecord(body)) throw new Error(`GET /health-check answered ${res.statusCode} without JSON`);
  return body as Health;
}

/**
 * The model's OpenAPI document, as soon as the server has it (kiln's answers 503 until the worker has
 * loaded the predictor); setup failures and timeouts surface as in waitForReady.
 */
export async function fetchOpenApi(url: string, opts: WaitOptions): Promise<unknown> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const res = await send(`${url}/openapi.json`, { signal: opts.signal }).catch(() => undefined);
    if (res && ok(res)) return jsonOf(res);
    res?.resume();
    const status = (await health(url, opts.signal).catch(() => undefined))?.status;
    if (status === "SETUP_FAILED" || status === "DEFUNCT" || Date.now() > deadline) {
      await waitForReady(url, { ...opts, timeoutMs: 0 });
      throw new RuntimeStartError(`GET /openapi.json answered ${res?.statusCode ?? "nothing"}`);
    }
    await (opts.activity ?? new Activity()).pause(opts.intervalMs ?? 50, opts.signal);
    if (opts.signal.aborted) throw new InterruptedError();
  }
}

export interface PredictOptions {
  input: Record<string, unknown>;
  /** "train" runs a training (POST /trainings, cancel at /trainings/{id}/cancel); default "predict". */
  kind?: "predict" | "train" | undefined;
  /** Ctrl-C: cancels the prediction on the server and waits (bounded) for it to end. */
  signal: AbortSignal;
  onOutput?: (chunk: unknown, index: number) => Promise<void> | void;
  onLog?: (text: string, source: string) => void;
  /** How long to wait for the canceled prediction to finish before giving up. */
  cancelGraceMs?: number;
}

export interface PredictResult {
  prediction: Prediction;
  /** True when log/output events arrived while running (they need not be printed again). */
  streamed: boolean;
  /** True when the user interrupted it. */
  interrupted: boolean;
}

export async function predict(url: string, opts: PredictOptions): Promise<PredictResult> {
  const id = predictionId();
  const base = `${url}${opts.kind === "train" ? "/trainings" : "/predictions"}`;
  const request = new AbortController();
  let interrupted = false;
  const onAbort = (): void => {
    interrupted = true;
    void send(`${base}/${id}/cancel`, { method: "POST" }).then(
      (res) => res.resume(),
      () => undefined,
    );
    setTimeout(() => request.abort(), opts.cancelGraceMs ?? 10_000).unref();
  };
  if (opts.signal.aborted) throw new InterruptedError();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await send(base, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ id, input: opts.input }),
      signal: request.signal,
    });
    const type = res.headers["content-type"] ?? "";
    if (ok(res) && type.startsWith("text/event-stream")) {
      return { ...(await fromStream(res, opts)), interrupted };
    }
    const answer = await jsonOf(res);
    const body = isRecord(answer) ? answer : undefined;
    const status = res.statusCode ?? 500;
    if (status === 200 && body) return { prediction: body as Prediction, streamed: false, interrupted };
    throw requestError(status, body);
  } catch (err) {
    if (request.signal.aborted && interrupted)
      throw new InterruptedError("Interrupted: the prediction did not stop in time.");
    throw err;
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
  }
}

async function fromStream(
  body: AsyncIterable<Uint8Array>,
  opts: PredictOptions,
): Promise<Omit<PredictResult, "interrupted">> {
  let streamed = false;
  for await (const event of readSse(body)) {
    const data = parseJson(event.data);
    if (event.event === "output" && isRecord(data)) {
      streamed = true;
      await opts.onOutput?.(data["chunk"], typeof data["index"] === "number" ? data["index"] : 0);
    } else if (event.event === "log" && isRecord(data)) {
      streamed = true;
      opts.onLog?.(String(data["data"] ?? ""), String(data["source"] ?? "stdout"));
    } else if (event.event === "completed" && isRecord(data)) {
      const prediction = (isRecord(data["prediction"]) ? data["prediction"] : data) as Prediction;
      return { prediction, streamed };
    }
  }
  throw new PredictionError("the model's server closed the prediction stream before the prediction finished");
}

function requestError(status: number, body: Record<string, unknown> | undefined): Error {
  if (status === 422 && Array.isArray(body?.["detail"])) {
    const details = (body["detail"] as { loc?: unknown[]; msg?: string }[]).map(
      (d) => `${(d.loc ?? []).slice(2).join(".") || "input"}: ${d.msg ?? "invalid"}`,
    );
    return new PredictionError("the model rejected the inputs", { details });
  }
  const message = typeof body?.["error"] === "string" ? body["error"] : JSON.stringify(body ?? {});
  return new PredictionError(`the model's server answered ${status}: ${message}`);
}

/**
 * The id this CLI gives its one prediction: 80 random bits as hex, like the server's own ids. It only has
 * to differ from other predictions on the same model server, so Math.random serves, and the CLI does not
 * load node:crypto (a few ms of start-up on every `kiln predict`) for it.
 */
function predictionId(): string {
  let hex = "";
  for (let i = 0; i < 4; i++)
    hex += Math.floor(Math.random() * 0x100000)
      .toString(16)
      .padStart(5, "0");
  return `kiln${hex}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lastLines(lines: string[], n = 30): string[] {
  const trimmed = lines.map((l) => l.trimEnd());
  while (trimmed.length > 0 && trimmed.at(-1) === "") trimmed.pop();
  return trimmed.slice(-n);
}
