/**
 * The worker's end of the protocol pipes: frames in on fd 3, frames out on fd 4 (NDJSON, see
 * src/runtime/protocol.ts). Writes go through a net.Socket so they are ordered and never block.
 */
import { Socket } from "node:net";
import { FrameDecoder, encodeWorkerFrame, type ServerMessage, type WorkerMessage } from "../../protocol.js";

export interface Channel {
  send(message: WorkerMessage): void;
  /** Flushes pending frames, then resolves (used before exiting). */
  close(): Promise<void>;
}

export function openChannel(opts: {
  onMessage: (message: ServerMessage) => void;
  onClose: () => void;
  inFd?: number;
  outFd?: number;
}): Channel {
  const out = new Socket({ fd: opts.outFd ?? 4, readable: false, writable: true });
  // A server that went away must not crash the worker with EPIPE; onClose handles the exit.
  out.on("error", () => opts.onClose());
  const input = new Socket({ fd: opts.inFd ?? 3, readable: true, writable: false });
  const decoder = new FrameDecoder<ServerMessage>(opts.onMessage, (err, line) => {
    process.stderr.write(`kiln worker: ignoring a malformed frame (${err.message}): ${line.slice(0, 200)}\n`);
  });
  input.on("data", (chunk: Buffer) => decoder.push(chunk));
  input.on("end", () => opts.onClose());
  input.on("error", () => opts.onClose());
  return {
    send(message) {
      if (out.destroyed) return;
      // Frames sent in the same tick (log, metric, done...) leave in one write syscall.
      if (out.writableCorked === 0) {
        out.cork();
        process.nextTick(() => out.uncork());
      }
      const frame = encodeWorkerFrame(message);
      if (typeof frame === "string") out.write(frame);
      else for (const piece of frame) out.write(piece);
    },
    close() {
      input.destroy();
      return new Promise((resolve) => {
        if (out.destroyed) return resolve();
        out.end(resolve);
      });
    },
  };
}
