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
 * Inputs the other way: a predict frame whose input holds big strings (request strings the server kept as
 * their bytes, raw-json.ts) carries `"rawInputs": [{"path": [...], "bytes": N}, ...]` and `null` at each
 * path inside `input`; after the frame come, in order, each attachment's N bytes (the value as UTF-8 JSON
 * text) and a "\n". The worker puts the values in place before it handles the message, so neither side
 * parses a 100 MB line. The newline makes each attachment a line too (JSON text holds no raw newline):
 * a line reader may read it as one.
 *
 * Files in outputs are encoded as `{"$file": "/absolute/path"}` anywhere in the output value; the
 * server turns them into data URIs or uploads. File inputs arrive at the worker as absolute paths.
 * Secret inputs arrive as plain strings; workers wrap them (Python: cog.Secret) and the server redacts.
 */
import type { PredictorSchema } from "../schema/types.js";
import { RAW_ATTACHMENT_MIN_BYTES, RawJson, decodeJson } from "./raw-json.js";

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

/** Where a value sits inside a predict input: keys and list indices from the input object down. */
export type InputPath = (string | number)[];

/** A big input value that travels after the predict frame (see the header comment). */
export interface InputAttachment {
  path: InputPath;
  value: RawJson;
}

/**
 * The input with its big values (RawJson) taken out: `null` in their place (containers on the way are
 * copied, the caller's input is left as it is) and the values listed with their paths.
 */
export function detachInputs(input: Record<string, unknown>): {
  input: Record<string, unknown>;
  attachments: InputAttachment[];
} {
  const attachments: InputAttachment[] = [];
  // One path stack for the whole walk (run on every prediction): copied only where a value is taken out.
  const path: InputPath = [];
  const walk = (value: unknown): unknown => {
    if (value instanceof RawJson) {
      attachments.push({ path: [...path], value });
      return null;
    }
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) {
      let list: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        path.push(i);
        const out = walk(item);
        path.pop();
        if (out !== item) (list ??= [...(value as unknown[])])[i] = out;
      }
      return list ?? value;
    }
    let copy: Record<string, unknown> | null = null;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      path.push(key);
      const out = walk(item);
      path.pop();
      if (out !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = out;
    }
    return copy ?? value;
  };
  const out = walk(input) as Record<string, unknown>;
  return { input: out, attachments };
}

/**
 * A predict frame around its input's JSON, serialized by the caller (who may reuse the same bytes, e.g.
 * to echo a big input back in the response without serializing it twice), and the attachments of the
 * big values detachInputs took out of it, sent as the bytes they are.
 */
export function encodePredictFrame(
  message: PredictMessage,
  inputJson: string | Buffer,
  attachments: readonly InputAttachment[] = [],
): string | (string | Buffer)[] {
  const { input: _input, ...head } = message;
  const rawInputs = attachments.map((a) => ({ path: a.path, bytes: a.value.bytes }));
  const start = `${JSON.stringify(rawInputs.length > 0 ? { ...head, rawInputs } : head).slice(0, -1)},"input":`;
  // One string for the common small frame: one write, one syscall.
  if (typeof inputJson === "string" && attachments.length === 0) return `${start}${inputJson}}\n`;
  const out: (string | Buffer)[] = [start, inputJson, "}\n"];
  for (const a of attachments) out.push(...a.value.parts, "\n");
  return out;
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
  /** Input attachments (server -> worker) still to come after this one; each ends with "\n". */
  inputs?: { path: InputPath; bytes: number }[];
  path?: InputPath;
}

function isInputPath(path: unknown): path is InputPath {
  return (
    Array.isArray(path) &&
    path.length > 0 &&
    path.every((k) => typeof k === "string" || (typeof k === "number" && Number.isInteger(k) && k >= 0))
  );
}

/** Puts `value` at `path` inside `input`; false when the path leads nowhere. */
function placeInput(input: unknown, path: InputPath, value: unknown): boolean {
  let at = input;
  for (let k = 0; k < path.length - 1; k++) {
    if (typeof at !== "object" || at === null) return false;
    at = (at as Record<string | number, unknown>)[path[k]!];
  }
  if (typeof at !== "object" || at === null) return false;
  (at as Record<string | number, unknown>)[path.at(-1)!] = value;
  return true;
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
      // One attachment may end where the next begins (a predict frame's inputs follow one another).
      while (this.attachment) {
        const current = this.attachment;
        start = this.takeAttachment(bytes, start);
        if (this.attachment === current) return;
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
    if (typeof m === "object" && m !== null && "rawInputs" in m) {
      const { rawInputs, ...message } = m;
      const ok =
        Array.isArray(rawInputs) &&
        rawInputs.length > 0 &&
        rawInputs.every(
          (r: { path?: unknown; bytes?: unknown }) =>
            isInputPath(r?.path) && Number.isInteger(r.bytes) && (r.bytes as number) > 0,
        );
      if (!ok || typeof message.input !== "object" || message.input === null) {
        this.onError(new Error("malformed input attachment header (rawInputs)"), line);
        return;
      }
      this.nextInput(message, [...(rawInputs as { path: InputPath; bytes: number }[])]);
      return;
    }
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

  /** Waits for the first of `inputs`, or delivers the message when none is left. */
  private nextInput(message: Record<string, unknown>, inputs: { path: InputPath; bytes: number }[]): void {
    const next = inputs.shift();
    if (!next) return this.onFrame(message as T);
    // Its bytes and the newline after them.
    this.attachment = {
      message,
      field: "input",
      left: next.bytes + 1,
      total: next.bytes,
      parts: [],
      inputs,
      path: next.path,
    };
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
      if (a.inputs) this.takeInput(a);
      else {
        a.message[a.field] = new RawJson(a.parts, a.total);
        this.onFrame(a.message as T);
      }
    }
    return start + take;
  }

  /** An input attachment is whole: decoded into its place (a worker needs the value itself). */
  private takeInput(a: PendingAttachment): void {
    const last = a.parts.at(-1)!;
    if (last[last.length - 1] !== 10) {
      return this.onError(new Error("an input attachment does not end with a newline"), "");
    }
    a.parts[a.parts.length - 1] = last.subarray(0, last.length - 1);
    let value: unknown;
    try {
      value = decodeJson(a.parts, a.total);
    } catch (err) {
      return this.onError(err as Error, "");
    }
    if (!placeInput(a.message.input, a.path!, value)) {
      return this.onError(new Error(`input attachment path ${JSON.stringify(a.path)} leads nowhere`), "");
    }
    this.nextInput(a.message, a.inputs!);
  }
}
