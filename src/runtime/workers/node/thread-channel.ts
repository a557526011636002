/**
 * The worker's end of the protocol when it runs in a worker thread of the server (thread-frames.ts):
 * frames arrive and leave through parentPort instead of fds 3/4. Same Channel as channel.ts.
 */
import { parentPort } from "node:worker_threads";
import { FrameDecoder, type ServerMessage, type WorkerMessage } from "../../protocol.js";
import {
  encodeFromThread,
  eachFrame,
  threadFrameBytes,
  type FromThread,
  type ThreadNotice,
  type ToThread,
} from "../../thread-frames.js";
import type { Channel } from "./channel.js";

export function openThreadChannel(opts: {
  onMessage: (message: ServerMessage) => void;
  onClose: () => void;
}): Channel {
  const port = parentPort;
  if (!port) throw new Error("openThreadChannel: not running in a worker thread");
  const bytes = new FrameDecoder<ServerMessage>(opts.onMessage, (err, line) => {
    process.stderr.write(`kiln worker: ignoring a malformed frame (${err.message}): ${line.slice(0, 200)}\n`);
  });
  const onData = (data: ToThread): void => {
    if (data === null) return opts.onClose();
    if (typeof data !== "string") {
      // Bytes are a stream, like a pipe: a frame's line and its input attachments, maybe in slices.
      return bytes.push(threadFrameBytes(data));
    }
    // One frame, or the frames the server wrote in one turn.
    eachFrame(data, (line) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(line) as ServerMessage;
      } catch (err) {
        process.stderr.write(`kiln worker: ignoring a malformed frame (${(err as Error).message})\n`);
        return;
      }
      opts.onMessage(message);
    });
  };
  port.on("message", onData);
  port.on("close", () => opts.onClose());
  // The end of a prediction (`done`, `failed`, `canceled`) waits for the microtasks queued so far, so
  // the predictions that finish together (all those a batch of frames started) answer in one message:
  // one postMessage and one wake-up of the server. Every other frame (logs, outputs, metrics, setup's)
  // goes at once, after what waits: a predictor that blocks the thread right after printing or yielding
  // must not hold that back. What waits is at most the rest of one microtask checkpoint.
  let batch: string | null = null;
  const flush = (): void => {
    const text = batch;
    batch = null;
    if (text !== null) port.postMessage(text);
  };
  flushBeforeNotice = flush;
  // process.exit() in the predictor ends the thread before the microtasks run: what waits still goes.
  process.once("exit", flush);
  return {
    send(message) {
      const { data, transfer } = encodeFromThread(message);
      if (typeof data === "string" && transfer.length === 0 && ENDS_A_PREDICTION.has(message.type)) {
        if (batch === null) {
          batch = data;
          queueMicrotask(flush);
        } else batch += `\n${data}`;
        return;
      }
      flush();
      port.postMessage(data, transfer);
    },
    close() {
      flush();
      port.off("message", onData);
      return Promise.resolve();
    },
  };
}

const ENDS_A_PREDICTION = new Set<WorkerMessage["type"]>(["done", "failed", "canceled"]);

// The open channel's flush: a notice about the thread follows the frames sent before it.
let flushBeforeNotice: () => void = () => undefined;

/**
 * Tells the server about the thread itself: that it cannot host the predictor (`unsupported`: the server
 * runs it in a process instead; nothing else follows), or a subprocess it started or saw end.
 */
export function notifyServer(notice: ThreadNotice): void {
  flushBeforeNotice();
  parentPort?.postMessage(notice satisfies FromThread);
}
