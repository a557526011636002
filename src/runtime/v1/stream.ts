/**
 * The hosted API's SSE stream at urls.stream: `output` (raw text chunk), `logs`, `error` and `done`
 * (`{}` or `{"reason":"canceled"|"error"}`), each with an `id:`. Built on the shared streamPrediction()
 * with a hosted renderer; the ids are positions in the prediction's event history, so a reconnect with
 * `Last-Event-ID` resumes right after the last event the client saw.
 */
import type { ServerResponse } from "node:http";
import type { Prediction, PredictionEvent } from "../core/prediction.js";
import { streamPrediction, type SseLimits } from "../sse.js";
import { materialize } from "../raw-json.js";

interface EventId {
  index: number;
  sub: number;
}

/** `N` or `N.S`; anything else means "from the beginning". */
export function parseLastEventId(raw: string | string[] | undefined): EventId | null {
  const m = typeof raw === "string" ? /^(\d+)(?:\.(\d+))?$/.exec(raw.trim()) : null;
  return m ? { index: Number(m[1]), sub: Number(m[2] ?? 0) } : null;
}

/** One SSE frame; every line of a multi-line payload gets its own `data:` line (the SSE spec way). */
export function hostedFrame(event: string, id: EventId, data: string): string {
  const idText = id.sub === 0 ? String(id.index) : `${id.index}.${id.sub}`;
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`);
  return `event: ${event}\nid: ${idText}\n${lines.join("\n")}\n\n`;
}

function text(raw: unknown): string {
  // The hosted stream sends text, not JSON: a big output kept as bytes is parsed here.
  const value = materialize(raw);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The hosted events (name, data) for one core event. */
export function hostedEvents(e: PredictionEvent, p: Prediction): [string, string][] {
  switch (e.type) {
    case "output":
      return [["output", text(e.chunk)]];
    case "log":
      return [["logs", e.data.replace(/\n$/, "")]];
    case "completed": {
      const out: [string, string][] = [];
      // A non-streaming model's whole output arrives as one `output` event before `done`.
      if (p.status === "succeeded" && !p.iterator && p.output !== null) out.push(["output", text(p.output)]);
      if (p.status === "failed") out.push(["error", p.error ?? "prediction failed"]);
      const reason =
        p.status === "canceled" ? { reason: "canceled" } : p.status === "failed" ? { reason: "error" } : {};
      out.push(["done", JSON.stringify(reason)]);
      return out;
    }
    default:
      return [];
  }
}

export function streamHosted(
  res: ServerResponse,
  p: Prediction,
  lastEventId: EventId | null,
  limits?: SseLimits,
): Promise<void> {
  const render = (e: PredictionEvent, pred: Prediction, index: number): string => {
    let out = "";
    hostedEvents(e, pred).forEach(([name, data], sub) => {
      const after =
        !lastEventId || index > lastEventId.index || (index === lastEventId.index && sub > lastEventId.sub);
      if (after) out += hostedFrame(name, { index, sub }, data);
    });
    return out;
  };
  return streamPrediction(res, p, 200, render, limits);
}
