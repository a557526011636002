/**
 * Runs one prediction on a target and keeps a RunView up to date: create (POST /v1/predictions with the
 * version), follow urls.stream (SSE: output token by token, logs, done), poll the prediction for status
 * and metrics, and show the final state. Cancel goes to urls.cancel.
 */
import { TERMINAL, type Api, type Prediction, type Target } from "./api.js";
import type { Json } from "./fields.js";
import { outputShape } from "./fields.js";
import type { RunView } from "./run-view.js";

export interface RunHandle {
  id: string;
  done: Promise<Prediction>;
  cancel(): Promise<void>;
}

const POLL_MS = 500;

function parseChunk(data: string, itemIsString: boolean): Json {
  if (itemIsString) return data;
  try {
    return JSON.parse(data) as Json;
  } catch {
    return data;
  }
}

/** Creates the prediction (throws the ApiError of a 422 etc.) and follows it until it is terminal. */
export async function startRun(
  api: Api,
  target: Target,
  input: Record<string, Json>,
  view: RunView,
  extra: Record<string, Json> = {},
): Promise<RunHandle> {
  const shape = outputShape(target.openapi);
  view.begin();
  let created: Prediction;
  try {
    created = await api.create(target, input, extra);
  } catch (err) {
    view.notStarted();
    throw err;
  }
  view.show(created, shape.concatenate, false);
  const done = follow(api, target, created, view, shape);
  return {
    id: created.id,
    done,
    async cancel() {
      await api.cancel(target.base, created.id);
    },
  };
}

function follow(
  api: Api,
  target: Target,
  created: Prediction,
  view: RunView,
  shape: ReturnType<typeof outputShape>,
): Promise<Prediction> {
  return new Promise<Prediction>((resolve) => {
    let finished = false;
    let source: EventSource | null = null;
    let poll: number | undefined;
    const finish = async (): Promise<void> => {
      if (finished) return;
      finished = true;
      source?.close();
      window.clearTimeout(poll);
      let final: Prediction;
      try {
        final = await api.get(target.base, created.id);
        // The stream can end a moment before the record says so.
        for (let i = 0; i < 20 && !TERMINAL.has(final.status); i++) {
          await new Promise((r) => setTimeout(r, 100));
          final = await api.get(target.base, created.id);
        }
      } catch (err) {
        view.fail(`could not read the prediction: ${(err as Error).message}`);
        final = created;
      }
      view.show(final, shape.concatenate, true);
      resolve(final);
    };
    const stream = created.urls?.stream;
    if (stream) {
      source = new EventSource(stream);
      source.addEventListener("output", (e) => {
        if (!shape.iterator) return; // a single value arrives whole at the end: shown from the record
        const data = (e as MessageEvent<string>).data;
        if (shape.concatenate) view.appendText(data);
        else view.appendItem(parseChunk(data, shape.file || isStringItem(target.openapi)));
        view.setStatus("processing");
      });
      source.addEventListener("logs", (e) => {
        view.appendLog((e as MessageEvent<string>).data);
        view.setStatus("processing");
      });
      source.addEventListener("done", () => void finish());
      source.addEventListener("error", () => {
        // EventSource reconnects by itself (resuming with Last-Event-ID); a closed one means it gave up.
        if (source?.readyState === EventSource.CLOSED) void finish();
      });
    }
    const tick = async (): Promise<void> => {
      if (finished) return;
      try {
        const p = await api.get(target.base, created.id);
        if (finished) return;
        view.show(p, shape.concatenate, false);
        if (TERMINAL.has(p.status)) {
          // Give the stream its last events (done) before reading the final record.
          if (!stream) void finish();
          else poll = window.setTimeout(() => void finish(), 1000);
          return;
        }
      } catch {
        /* transient: the next poll tries again */
      }
      poll = window.setTimeout(() => void tick(), POLL_MS);
    };
    poll = window.setTimeout(() => void tick(), POLL_MS);
  });
}

function isStringItem(openapi: unknown): boolean {
  const out = (openapi as { components?: { schemas?: { Output?: { items?: { type?: string } } } } })
    ?.components?.schemas?.Output;
  return out?.items?.type === "string";
}
