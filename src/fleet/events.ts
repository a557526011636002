/**
 * A prediction's events as stream entries (`t` = type, `d` = JSON data), and their replay onto a
 * Prediction. The replica writes the events its own Prediction emits; a gateway mirror replays them onto
 * a Prediction of the same class, so its state, history (SSE ids) and timestamps match the replica's.
 */
import type { Prediction, PredictionEvent, TerminalStatus } from "../runtime/core/prediction.js";
import type { MetricMode } from "../runtime/core/metrics.js";

const METRIC_MODES: ReadonlySet<MetricMode> = new Set(["replace", "incr", "append"]);

export interface WireEvent {
  t: "start" | "output" | "log" | "metric" | "completed";
  d: Record<string, unknown>;
}

/** The wire form of one event the replica's prediction just emitted (after it was applied). */
export function toWire(e: PredictionEvent, p: Prediction): WireEvent {
  switch (e.type) {
    case "start":
      return { t: "start", d: { at: (p.startedAt ?? new Date()).toISOString() } };
    case "output":
      return { t: "output", d: { chunk: e.chunk } };
    case "log":
      return { t: "log", d: { source: e.source, data: e.data } };
    case "metric":
      return { t: "metric", d: { name: e.name, value: e.value, mode: e.mode } };
    case "completed":
      return {
        t: "completed",
        d: {
          status: p.status,
          // Streamed chunks already went out as output events; a list returned whole did not.
          output: p.iterator
            ? p.history.some((h) => h.type === "output")
              ? null
              : [...(p.output as unknown[])]
            : p.output,
          error: p.error,
          at: (p.completedAt ?? new Date()).toISOString(),
        },
      };
  }
}

/** A terminal event for a prediction the replica never ran to its end (lost, canceled in the queue). */
export function terminalWire(status: TerminalStatus, error: string | null, at: Date = new Date()): WireEvent {
  return { t: "completed", d: { status, output: null, error, at: at.toISOString() } };
}

export function encodeWire(e: WireEvent): [string, string, string, string] {
  return ["t", e.t, "d", JSON.stringify(e.d)];
}

/** Parses stream entry fields ([k, v, k, v]); null for an entry that is not an event. */
export function decodeWire(fields: string[]): WireEvent | null {
  let t: string | undefined;
  let d: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "t") t = fields[i + 1];
    else if (fields[i] === "d") d = fields[i + 1];
  }
  if (!t || d === undefined || !["start", "output", "log", "metric", "completed"].includes(t)) return null;
  try {
    return { t: t as WireEvent["t"], d: JSON.parse(d) as Record<string, unknown> };
  } catch {
    return null;
  }
}

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

function date(v: unknown): Date {
  const d = typeof v === "string" ? new Date(v) : new Date();
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** Applies one wire event to a (mirror) prediction through its ordinary state transitions. */
export function applyWire(p: Prediction, e: WireEvent): void {
  const d = e.d;
  switch (e.t) {
    case "start":
      p.markProcessing(date(d.at));
      return;
    case "output":
      p.addOutputChunk(d.chunk);
      return;
    case "log":
      p.addLog(d.source === "stderr" ? "stderr" : "stdout", typeof d.data === "string" ? d.data : "");
      return;
    case "metric":
      // The replica's update as it made it (replace, incr, append), so the mirror ends with the same value.
      if (typeof d.name === "string")
        p.setMetric(
          d.name,
          d.value,
          METRIC_MODES.has(d.mode as MetricMode) ? (d.mode as MetricMode) : "replace",
        );
      return;
    case "completed": {
      const status = typeof d.status === "string" && TERMINAL.has(d.status) ? d.status : "failed";
      const result: { output?: unknown; error?: string } = {};
      if (status === "succeeded" && !(p.iterator && d.output === null)) result.output = d.output ?? null;
      if (typeof d.error === "string") result.error = d.error;
      p.finish(status as TerminalStatus, result, date(d.at));
      return;
    }
  }
}
