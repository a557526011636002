/**
 * Server-sent events for the container API, shaped as Cog's coglet sends them: `start {id,status}`,
 * `output {chunk,index}`, `log {source,data}`, `metric {name,value,mode}`, and `completed` carrying the
 * prediction object itself. Replays history first, so a re-attach (PUT with the
 * id of a running prediction) sees the whole stream. A client that goes away only unsubscribes.
 */
import type { ServerResponse } from "node:http";
import type { Prediction, PredictionEvent } from "./core/prediction.js";

const KEEPALIVE_MS = 15_000;

export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function renderContainerEvent(e: PredictionEvent, p: Prediction): string {
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

export function streamPrediction(
  res: ServerResponse,
  p: Prediction,
  status = 200,
  render: (e: PredictionEvent, p: Prediction) => string = renderContainerEvent,
): Promise<void> {
  res.writeHead(status, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  return new Promise((resolve) => {
    const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
    let unsubscribe = (): void => undefined;
    const end = (): void => {
      clearInterval(keepalive);
      unsubscribe();
      if (!res.writableEnded) res.end();
      resolve();
    };
    res.on("close", end);
    unsubscribe = p.subscribe(
      (e, pred) => {
        if (res.destroyed) return;
        res.write(render(e, pred));
        if (e.type === "completed") end();
      },
      { replay: true },
    );
    if (p.terminal && !res.writableEnded) end();
  });
}
