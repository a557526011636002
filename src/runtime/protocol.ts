/**
 * The server <-> worker protocol: one protocol, two workers (node for .ts/.js, python3 for .py).
 *
 * Transport: the worker is spawned with stdio [ignore, pipe, pipe, pipe, pipe].
 *   fd 1 / fd 2  the user's raw stdout/stderr (attributed by the server to the one running prediction,
 *                or to setup; with concurrency > 1 workers send `log` messages instead, see below)
 *   fd 3         server -> worker messages
 *   fd 4         worker -> server messages
 * Framing: one JSON document per line (UTF-8, "\n"-terminated). JSON never contains a raw newline,
 * so a line is a frame. Files travel as paths, never inline.
 * Attachments: a big value (an output or chunk of RAW_ATTACHMENT_MIN_BYTES or more) leaves the frame and
 * follows it: the frame carries `"rawField": "<field>", "rawBytes": N` instead of the field, and the next N
 * bytes on the pipe are the field's value as UTF-8 JSON text; line framing resumes after them. The server
 * keeps those bytes as they are (raw-json.ts) instead of parsing a 100 MB line and serializing it again.
 *
 * Files in outputs are encoded as `{"$file": "/absolute/path"}` anywhere in the output value; the
 * server turns them into data URIs or uploads. File inputs arrive at the worker as absolute paths.
 * Secret inputs arrive as plain strings; workers wrap them (Python: cog.Secret) and the server redacts.
 */
import type { PredictorSchema } from "../schema/types.js";
import { RAW_ATTACHMENT_MIN_BYTES, RawJson } from "./raw-json.js";

export const PROTOCOL_VERSION = 1;

/** Which entry point of the predictor a message is about. */
export type PredictorKind = "predict" | "train";

// ---------- server -> worker ----------
export interface SetupMessage {
  type: "setup";
  /** COG_WEIGHTS or null. */
  weights: string | null;
}
export interface PredictMessage {
  type: "predict";
  id: string;
  kind: PredictorKind;
  /** Already validated, defaults applied; files as local paths. */
  input: Record<string, unknown>;
  /** The request's `context` object (Cog: current_scope().context). */
  context: Record<string, string>;
}
export interface CancelMessage {
  type: "cancel";
  id: string;
}
export interface HealthcheckMessage {
  type: "healthcheck";
  seq: number;
}
export interface ShutdownMessage {
  type: "shutdown";
}
export type ServerMessage =
  SetupMessage | PredictMessage | CancelMessage | HealthcheckMessage | ShutdownMessage;

// ---------- worker -> server ----------
/** Sent once after the module loaded (before setup): the schema, so /openapi.json works during setup. */
export interface LoadedMessage {
  type: "loaded";
  protocol: number;
  schema: PredictorSchema;
  /** True when predict is async (Python `async def`, or any TS predictor): concurrency > 1 allowed. */
  async: boolean;
  hasHealthcheck: boolean;
  /** Python `@cog.concurrent(max=N)`: the slots the predictor asks for (COG_MAX_CONCURRENCY overrides it). */
  concurrency?: number;
  /** Python `@cog.streaming` on predict(). */
  streaming?: boolean;
}
export interface ReadyMessage {
  type: "ready";
}
export interface SetupFailedMessage {
  type: "setup_failed";
  /** Human-readable cause, e.g. "predict.py:3: ModuleNotFoundError: No module named 'torch'". */
  error: string;
}
export interface LogMessage {
  type: "log";
  /** The prediction the log belongs to; null for setup / no prediction. */
  id: string | null;
  source: "stdout" | "stderr";
  data: string;
}
export interface OutputChunkMessage {
  type: "output";
  id: string;
  /** One item of an iterator output. */
  chunk: unknown;
}
export interface MetricMessage {
  type: "metric";
  id: string;
  name: string;
  value: unknown;
  /** replace (default), incr (add a number), append (push to a list). */
  mode: "replace" | "incr" | "append";
}
export interface DoneMessage {
  type: "done";
  id: string;
  /** The return value for non-iterator predictors; absent for iterators (chunks were sent). */
  output?: unknown;
}
export interface FailedMessage {
  type: "failed";
  id: string;
  error: string;
}
export interface CanceledMessage {
  type: "canceled";
  id: string;
}
export interface HealthcheckResultMessage {
  type: "healthcheck_result";
  seq: number;
  ok: boolean;
  error?: string;
}
export type WorkerMessage =
  | LoadedMessage
  | ReadyMessage
  | SetupFailedMessage
  | LogMessage
  | OutputChunkMessage
  | MetricMessage
  | DoneMessage
  | FailedMessage
  | CanceledMessage
  | HealthcheckResultMessage;

export function encodeFrame(message: ServerMessage | WorkerMessage): string {
  return `${JSON.stringify(message)}\n`;
}

// A character JSON would escape, or one outside ASCII (its UTF-8 length differs from its length).
export const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/**
 * A predict frame around its input's JSON, serialized by the caller (who may reuse the same bytes, e.g.
 * to echo a big input back in the response without serializing it twice).
 */
export function encodePredictFrame(
  message: PredictMessage,
  inputJson: string | Buffer,
): string | (string | Buffer)[] {
  const { input: _input, ...head } = message;
  const start = `${JSON.stringify(head).slice(0, -1)},"input":`;
  // One string for the common small frame: one write, one syscall.
  return typeof inputJson === "string" ? `${start}${inputJson}}\n` : [start, inputJson, "}\n"];
}

/** The field of a message that may travel as an attachment. */
export function attachableField(message: WorkerMessage): "output" | "chunk" | null {
  if (message.type === "done") return "output" in message ? "output" : null;
  return message.type === "output" ? "chunk" : null;
}

/**
 * A worker message as bytes for the pipe: one frame, or for a big output or chunk a frame and its
 * attachment. The value is serialized once either way.
 */
export function encodeWorkerFrame(message: WorkerMessage): string | (string | Buffer)[] {
  const field = attachableField(message);
  if (field === null) return encodeFrame(message);
  const { [field]: value, ...head } = message as unknown as Record<string, unknown>;
  if (typeof value === "string" && value.length >= RAW_ATTACHMENT_MIN_BYTES && !NEEDS_ESCAPE.test(value)) {
    // Printable ASCII without quotes or backslashes is its own JSON text: no serialization pass at all.
    const header = JSON.stringify({ ...head, rawField: field, rawBytes: value.length + 2 });
    return [`${header}\n"`, value, '"'];
  }
  const json = JSON.stringify(value);
  if (json === undefined) return encodeFrame(message);
  if (json.length < RAW_ATTACHMENT_MIN_BYTES) {
    // The head's own JSON with the value appended: no second serialization of the value.
    return `${JSON.stringify(head).slice(0, -1)},"${field}":${json}}\n`;
  }
  const body = Buffer.from(json, "utf8");
  return [`${JSON.stringify({ ...head, rawField: field, rawBytes: body.length })}\n`, body];
}

interface PendingAttachment {
  message: Record<string, unknown>;
  field: string;
  left: number;
  total: number;
  parts: Buffer[];
}

/**
 * Splits a byte stream into frames. Feed it chunks; it calls `onFrame` for each complete line.
 * A line that is not valid JSON calls `onError` (the worker is then considered broken).
 *
 * Linear in the bytes received: each byte is scanned for "\n" once (only the new chunk is searched,
 * never the buffered part of an unfinished line), and a line is decoded as UTF-8 only once it is whole,
 * so a multi-byte character split across two pipe reads is never mangled ("\n" cannot occur inside a
 * UTF-8 sequence, so splitting on the byte is safe). Attachment bytes are not scanned nor copied: the
 * message gets them as a RawJson over the very buffers the pipe delivered (each read is a fresh buffer).
 */
export class FrameDecoder<T> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private attachment: PendingAttachment | null = null;
  /** Bytes searched for a newline so far (tests assert linearity with it). */
  bytesScanned = 0;
  /** Attachment bytes taken as they are (neither scanned nor copied). */
  bytesAttached = 0;
  constructor(
    private readonly onFrame: (message: T) => void,
    private readonly onError: (error: Error, line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let start = 0;
    for (;;) {
      if (this.attachment) {
        start = this.takeAttachment(bytes, start);
        if (this.attachment) return;
      }
      const nl = bytes.indexOf(10, start);
      this.bytesScanned += (nl === -1 ? bytes.length : nl + 1) - start;
      if (nl === -1) break;
      let line: Buffer = bytes.subarray(start, nl);
      if (this.pendingBytes > 0) {
        this.pending.push(line);
        line = Buffer.concat(this.pending, this.pendingBytes + line.length);
        this.pending = [];
        this.pendingBytes = 0;
      }
      start = nl + 1;
      if (line.length > 0) this.deliver(line.toString("utf8"));
    }
    if (start < bytes.length) {
      // Copy: the caller may reuse its buffer, and a subarray would pin the whole chunk.
      const rest = start === 0 ? bytes : Buffer.from(bytes.subarray(start));
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  /** Bytes of an unfinished line held so far. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private deliver(line: string): void {
    let parsed: T;
    try {
      parsed = JSON.parse(line) as T;
    } catch (err) {
      this.onError(err as Error, line);
      return;
    }
    const m = parsed as Record<string, unknown>;
    if (typeof m === "object" && m !== null && "rawBytes" in m) {
      const { rawField: field, rawBytes: total, ...message } = m;
      if (typeof field !== "string" || typeof total !== "number" || !Number.isInteger(total) || total < 1) {
        this.onError(new Error("malformed attachment header (rawField/rawBytes)"), line);
        return;
      }
      this.attachment = { message, field, left: total, total, parts: [] };
      return;
    }
    this.onFrame(parsed);
  }

  /** Takes attachment bytes from `bytes` at `start`; returns where line framing resumes. */
  private takeAttachment(bytes: Buffer, start: number): number {
    const a = this.attachment!;
    const take = Math.min(a.left, bytes.length - start);
    if (take > 0) {
      a.parts.push(take === bytes.length ? bytes : bytes.subarray(start, start + take));
      a.left -= take;
      this.bytesAttached += take;
    }
    if (a.left === 0) {
      this.attachment = null;
      a.message[a.field] = new RawJson(a.parts, a.total);
      this.onFrame(a.message as T);
    }
    return start + take;
  }
}
