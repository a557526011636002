/**
 * The worker's end of the protocol when it runs in a worker thread of the server (thread-frames.ts):
 * frames arrive and leave through parentPort instead of fds 3/4. Same Channel as channel.ts.
 */
import { parentPort } from "node:worker_threads";
import { decodeWholeFrame, type ServerMessage } from "../../protocol.js";
import {
  encodeFromThread,
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
  const onData = (data: ToThread): void => {
    if (data === null) return opts.onClose();
    let message: ServerMessage;
    try {
      // Text is one plain frame; bytes may carry input attachments after the frame's line.
      message =
        typeof data === "string"
          ? (JSON.parse(data) as ServerMessage)
          : decodeWholeFrame<ServerMessage>(threadFrameBytes(data));
    } catch (err) {
      process.stderr.write(`kiln worker: ignoring a malformed frame (${(err as Error).message})\n`);
      return;
    }
    opts.onMessage(message);
  };
  port.on("message", onData);
  port.on("close", () => opts.onClose());
  return {
    send(message) {
      const { data, transfer } = encodeFromThread(message);
      port.postMessage(data, transfer);
    },
    close() {
      port.off("message", onData);
      return Promise.resolve();
    },
  };
}

/**
 * Tells the server about the thread itself: that it cannot host the predictor (`unsupported`: the server
 * runs it in a process instead; nothing else follows), or a subprocess it started or saw end.
 */
export function notifyServer(notice: ThreadNotice): void {
  parentPort?.postMessage(notice satisfies FromThread);
}
