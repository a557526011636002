/**
 * Server-sent events for the container API, shaped as Cog's coglet sends them: `start {id,status}`,
 * `output {chunk,index}`, `log {source,data}`, `metric {name,value,mode}`, and `completed` carrying the
 * prediction object itself. Replays history first, so a re-attach (PUT with the
 * id of a running prediction) sees the whole stream. A client that goes away only unsubscribes.
 */
import type { ServerResponse } from "node:http";
import type { Prediction, PredictionEvent } from "./core/prediction.js";
import { stringifyJson, type JsonChunk } from "./raw-json.js";

const KEEPALIVE_MS = 15_000;

/** An SSE event's text; pieces when it carries a big output kept as the worker's bytes. */
export type SseText = string | JsonChunk[];

function frame(event: string, data: unknown): SseText {
  const json = stringifyJson(data);
  if (typeof json === "string") return `event: ${event}\ndata: ${json}\n\n`;
  return [`event: ${event}\ndata: `, ...json, "\n\n"];
}

function renderContainerEvent(e: PredictionEvent, p: Prediction): SseText {
  switch (e.type) {
    case "start":
      return frame("start", { id: p.id, status: "processing" });
    case "output":
      return frame("output", { chunk: e.chunk, index: e.index });
    case "log":
      return frame("log", { source: e.source, data: e.data });
    case "metric":
      return frame("metric", { name: e.name, value: e.value, mode: e.mode });
    case "completed":
      return frame("completed", p.snapshot());
  }
}

export interface SseLimits {
  /** Bytes a client may have waiting in its response buffer; beyond it the stream pauses for it. */
  maxBufferedBytes: number;
  /** A client that reads nothing for this long while events wait is disconnected (it may resume). */
  stallTimeoutMs: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = { maxBufferedBytes: 1024 * 1024, stallTimeoutMs: 30_000 };

const open = new Set<ServerResponse>();

/** Bytes buffered for each open SSE client (for tests and metrics). */
export function sseBufferedBytes(): number[] {
  return [...open].map((r) => r.writableLength);
}

/**
 * Streams a prediction's events, oldest first, from its history. Backpressure per client: events are
 * rendered only while the client's buffer is under `maxBufferedBytes`, so a client that stops reading
 * costs at most that much (the history is the prediction's own, shared by every reader); one that reads
 * nothing for `stallTimeoutMs` is disconnected. `render` gets the event's index in the history (the
 * /v1 stream's event ids, for Last-Event-ID).
 */
export function streamPrediction(
  res: ServerResponse,
  p: Prediction,
  status = 200,
  render: (e: PredictionEvent, p: Prediction, index: number) => SseText = renderContainerEvent,
  limits: SseLimits = DEFAULT_SSE_LIMITS,
): Promise<void> {
  res.writeHead(status, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  open.add(res);
  return new Promise((resolve) => {
    let cursor = 0;
    let finished = false;
    let stall: NodeJS.Timeout | null = null;
    const keepalive = setInterval(() => {
      if (res.writableLength < limits.maxBufferedBytes) res.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    let unsubscribe = (): void => undefined;
    const end = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(keepalive);
      if (stall) clearTimeout(stall);
      res.off("drain", onDrain);
      unsubscribe();
      open.delete(res);
      if (!res.writableEnded && !res.destroyed) res.end();
      resolve();
    };
    const onDrain = (): void => {
      if (stall) clearTimeout(stall);
      stall = null;
      pump();
    };
    const pump = (): void => {
      if (finished || res.destroyed) return;
      while (cursor < p.history.length) {
        if (res.writableLength >= limits.maxBufferedBytes) {
          // Wait for the client to read; if it never does, drop it (a /v1 client resumes by id).
          stall ??= setTimeout(() => {
            res.destroy();
            end();
          }, limits.stallTimeoutMs);
          return;
        }
        const index = cursor++;
        const event = p.history[index]!;
        const text = render(event, p, index);
        if (typeof text === "string") {
          if (text) res.write(text);
        } else {
          res.cork(); // one writev for the pieces of a big event
          for (const piece of text) res.write(piece);
          res.uncork();
        }
        if (event.type === "completed") return end();
      }
    };
    res.on("close", end);
    res.on("drain", onDrain);
    unsubscribe = p.subscribe(() => pump());
    pump();
    if (p.terminal && cursor >= p.history.length) end();
  });
}
