/**
 * The protocol's messages between the server and a node worker running in a worker thread of the
 * server's process (worker-thread.ts, workers/node/thread-channel.ts). The messages are protocol.ts's,
 * with the same JSON semantics; only the carriage differs from the pipes:
 *   server -> thread  one frame's JSON text (a string), or for a frame sent in pieces its bytes moved
 *                     over, input attachments after its line included (decodeWholeFrame); or `null`
 *                     once nothing more follows (the pipe's end-of-file);
 *   thread -> server  one frame's JSON text; for a big output or chunk, [head JSON, field, the field's
 *                     JSON as UTF-8 bytes], the bytes moved (transferred), never copied nor parsed on
 *                     the server, which keeps them as a RawJson like a pipe attachment; or
 *                     `{ unsupported }`, the thread's notice that it cannot host this predictor (a
 *                     native addon that is not context-aware) and the server should run a process;
 *                     `{ spawned }` / `{ reaped }`, a subprocess it started or that ended (the server
 *                     stops those still running when the thread ends, as a process group would);
 *                     `{ killed }`, the signal the predictor sent its own process (thread-signals.ts).
 */
import { RAW_ATTACHMENT_MIN_BYTES, RawJson } from "./raw-json.js";
import { NEEDS_ESCAPE, attachableField, type WorkerMessage } from "./protocol.js";

export type ToThread = string | Uint8Array | null;
/** The thread's notices about itself (not protocol messages). */
export type ThreadNotice =
  { unsupported: string } | { spawned: number } | { reaped: number } | { killed: NodeJS.Signals };
export type FromThread = string | [head: string, field: string, bytes: Uint8Array] | ThreadNotice;

/** A worker message for postMessage: what to post, and the buffers to move with it. */
export function encodeFromThread(message: WorkerMessage): { data: FromThread; transfer: ArrayBuffer[] } {
  const field = attachableField(message);
  if (field === null) return { data: JSON.stringify(message), transfer: [] };
  const { [field]: value, ...head } = message as unknown as Record<string, unknown>;
  let bytes: Buffer;
  if (typeof value === "string" && value.length >= RAW_ATTACHMENT_MIN_BYTES && !NEEDS_ESCAPE.test(value)) {
    // Printable ASCII without quotes or backslashes is its own JSON text between quotes.
    bytes = Buffer.allocUnsafeSlow(value.length + 2);
    bytes[0] = 0x22;
    bytes.write(value, 1, "latin1");
    bytes[value.length + 1] = 0x22;
  } else {
    const json = JSON.stringify(value);
    if (json === undefined) return { data: JSON.stringify(message), transfer: [] };
    if (json.length < RAW_ATTACHMENT_MIN_BYTES)
      return { data: `${JSON.stringify(head).slice(0, -1)},"${field}":${json}}`, transfer: [] };
    // Its own memory (never the shared pool): moving it must not take bytes from anyone else.
    bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json));
    bytes.write(json);
  }
  return { data: [JSON.stringify(head), field, bytes], transfer: [bytes.buffer as ArrayBuffer] };
}

/** The server's side: a worker message, and the bytes it took as attachment (0 for a plain frame). */
export function decodeFromThread(data: Exclude<FromThread, ThreadNotice>): {
  message: WorkerMessage;
  attached: number;
} {
  if (typeof data === "string") return { message: JSON.parse(data) as WorkerMessage, attached: 0 };
  const [head, field, bytes] = data;
  const message = JSON.parse(head) as Record<string, unknown>;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  message[field] = new RawJson([buffer], buffer.length);
  return { message: message as unknown as WorkerMessage, attached: buffer.length };
}

/** An encoded server frame (protocol.ts's string or pieces) for postMessage, newline dropped. */
export function encodeToThread(frame: string | readonly (string | Buffer)[]): {
  data: ToThread;
  transfer: ArrayBuffer[];
} {
  if (typeof frame === "string") return { data: frame, transfer: [] };
  if (frame.every((p) => typeof p === "string")) return { data: frame.join(""), transfer: [] };
  let total = 0;
  for (const p of frame) total += typeof p === "string" ? Buffer.byteLength(p) : p.length;
  // A copy the thread owns: the caller may keep using its pieces (e.g. to echo a big input back).
  const bytes = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of frame) at += typeof p === "string" ? bytes.write(p, at) : p.copy(bytes, at);
  return { data: bytes, transfer: [bytes.buffer as ArrayBuffer] };
}

/** The thread's side: a server frame that came as bytes, as a Buffer over the same memory. */
export function threadFrameBytes(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
