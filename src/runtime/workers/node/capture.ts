/**
 * Attributes user output to the prediction (or setup) that wrote it. Writes to process.stdout/stderr
 * made inside a prediction's async context become `log` frames with its id, so concurrent predictions
 * keep separate logs; writes outside any context go to the real fd 1/2 untouched.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { LogMessage } from "../../protocol.js";

export interface LogScope {
  /** Prediction id, or null for setup. */
  id: string | null;
}

export const logScope = new AsyncLocalStorage<LogScope>();

type WriteCallback = (err?: Error | null) => void;

function chunkToString(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof Uint8Array) {
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(
      typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
    );
  }
  return String(chunk);
}

function patch(
  stream: NodeJS.WriteStream,
  source: LogMessage["source"],
  send: (m: LogMessage) => void,
): void {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const patched = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const scope = logScope.getStore();
    if (!scope) return original(chunk, encoding, callback);
    send({ type: "log", id: scope.id, source, data: chunkToString(chunk, encoding) });
    const cb = (typeof encoding === "function" ? encoding : callback) as WriteCallback | undefined;
    if (cb) process.nextTick(cb);
    return true;
  };
  stream.write = patched as typeof stream.write;
}

export function captureOutput(send: (m: LogMessage) => void): void {
  patch(process.stdout, "stdout", send);
  patch(process.stderr, "stderr", send);
}
