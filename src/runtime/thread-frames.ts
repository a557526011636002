/**
 * The protocol's messages between the server and a node worker running in a worker thread of the
 * server's process (worker-thread.ts, workers/node/thread-channel.ts). The messages are protocol.ts's,
 * with the same JSON semantics; only the carriage differs from the pipes:
 *   server -> thread  frames' JSON text, each ending with "\n" (the small frames written in one turn of
 *                     the event loop cross together: one message, one wake-up), or for a frame sent in
 *                     pieces its bytes moved
 *                     over in slices of at most THREAD_SLICE_BYTES, read as a byte stream by a
 *                     FrameDecoder like a pipe's (input attachments after the frame's line included);
 *                     or `null` once nothing more follows (the pipe's end-of-file);
 *   thread -> server  frames' JSON text, one per line (the frames of one turn together); for a big output or chunk, [head JSON, field, the field's
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

/**
 * Calls `each` with every frame of a batch: small frames written in one turn of an event loop cross as
 * one string, "\n" after each (JSON text holds no raw newline); empty lines are skipped. Stops early
 * when `each` returns false.
 */
export function eachFrame(text: string, each: (frame: string) => boolean | void): void {
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    if (end > start && each(start === 0 && end === text.length ? text : text.slice(start, end)) === false)
      return;
    if (nl === -1) return;
    start = nl + 1;
  }
}

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

/** The server's side of a big output or chunk: the message, its bytes kept as they are, their count. */
export function decodeFromThread(data: Exclude<FromThread, ThreadNotice | string>): {
  message: WorkerMessage;
  attached: number;
} {
  const [head, field, bytes] = data;
  const message = JSON.parse(head) as Record<string, unknown>;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  message[field] = new RawJson([buffer], buffer.length);
  return { message: message as unknown as WorkerMessage, attached: buffer.length };
}

/** Frames of more bytes than this cross to the thread in slices of at most this size. */
export const THREAD_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * An encoded server frame (protocol.ts's string or pieces) for postMessage: a string as it is, or its
 * bytes in copies the thread owns (the caller may keep using its pieces, e.g. to echo a big input
 * back), one slice of at most THREAD_SLICE_BYTES per call of the generator. The thread reads byte
 * slices as a stream, like a pipe (a frame's line, then its input attachments), so the server's loop
 * copies 4 MB at a time between its other work, never a 100 MB frame in one go.
 */
export function* encodeToThread(
  frame: string | readonly (string | Buffer)[],
): Generator<{ data: ToThread; transfer: ArrayBuffer[] }> {
  if (typeof frame === "string") return yield { data: frame, transfer: [] };
  if (frame.every((p) => typeof p === "string")) return yield { data: frame.join(""), transfer: [] };
  const pieces = frame.map((p) => (typeof p === "string" ? Buffer.from(p) : p));
  let left = pieces.reduce((n, p) => n + p.length, 0);
  let index = 0;
  let offset = 0;
  while (left > 0) {
    // Its own memory (never the shared pool): moving it must not take bytes from anyone else.
    const slice = Buffer.allocUnsafeSlow(Math.min(left, THREAD_SLICE_BYTES));
    let at = 0;
    while (at < slice.length) {
      const piece = pieces[index]!;
      const n = piece.copy(slice, at, offset, Math.min(piece.length, offset + slice.length - at));
      at += n;
      offset += n;
      if (offset === piece.length) {
        index++;
        offset = 0;
      }
    }
    left -= slice.length;
    yield { data: slice, transfer: [slice.buffer as ArrayBuffer] };
  }
}

/** The thread's side: a server frame that came as bytes, as a Buffer over the same memory. */
export function threadFrameBytes(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
