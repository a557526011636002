/**
 * The fixed part of every generated TypeScript client: input checks (a port of src/schema/checks.ts and
 * validate.ts, same messages and error types as the server's 422), retries with backoff, the SSE reader
 * for stream(), output file handles and the Standard Webhooks signature check. Kept free of template
 * literals so it can live in a String.raw block; the generated module defines MODEL, INPUT_SCHEMA etc.
 */
export const TS_RUNTIME = String.raw`
// ---------------------------------------------------------------------------------------------------
// Everything below is the same in every client kiln generates.

type Schema = { readonly [key: string]: unknown };

/** One problem with an input, as the server would report it (pydantic's loc/msg/type). */
export interface InputIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** The input was refused before anything was sent: the server would have answered 422. */
export class InputError extends Error {
  readonly issues: InputIssue[];
  constructor(issues: InputIssue[]) {
    super(
      "invalid input for " + MODEL + ":\n" +
        issues.map((i) => "- " + i.loc.filter((p) => p !== "body").join(".") + ": " + i.msg).join("\n"),
    );
    this.name = "InputError";
    this.issues = issues;
  }
}

/** The prediction ended without output: it failed, or it was canceled. */
export class PredictionError extends Error {
  readonly status: "failed" | "canceled";
  readonly prediction: Prediction | undefined;
  constructor(status: "failed" | "canceled", detail: string, prediction?: Prediction) {
    super(status === "failed" ? "prediction failed: " + detail : "prediction was canceled" + (detail ? ": " + detail : ""));
    this.name = "PredictionError";
    this.status = status;
    this.prediction = prediction;
  }
}

/** A webhook request whose signature, timestamp or body does not check out. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** How failed requests are retried: 429 and 5xx (and refused connections), with exponential backoff. */
export interface RetryOptions {
  /** Retries after the first attempt (default 4; 0 disables retries). */
  retries?: number;
  /** First backoff delay; doubles each retry, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Upper bound of one delay, also for a server's Retry-After (default 10 s). */
  maxDelayMs?: number;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isBytes(value: unknown): boolean {
  return value instanceof Uint8Array || (typeof Blob !== "undefined" && value instanceof Blob);
}

function repr(value: unknown): string {
  return typeof value === "string" ? "'" + value + "'" : JSON.stringify(value);
}

function oneOfText(values: unknown[]): string {
  const shown = values.map(repr);
  if (shown.length <= 1) return shown.join("");
  return shown.slice(0, -1).join(", ") + " or " + shown[shown.length - 1];
}

function plural(n: number, word: string): string {
  return n + " " + word + (n === 1 ? "" : "s");
}

function codePoints(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

function typeIssue(s: Schema, loc: (string | number)[]): InputIssue {
  if (s["format"] === "uri") return { loc, msg: "URL input should be a string or URL", type: "url_type" };
  if (Array.isArray(s["enum"])) return { loc, msg: "Input should be " + oneOfText(s["enum"]), type: "enum" };
  switch (s["type"]) {
    case "string":
      return { loc, msg: "Input should be a valid string", type: "string_type" };
    case "integer":
      return { loc, msg: "Input should be a valid integer", type: "int_type" };
    case "number":
      return { loc, msg: "Input should be a valid number", type: "float_type" };
    case "boolean":
      return { loc, msg: "Input should be a valid boolean", type: "bool_type" };
    case "array":
      return { loc, msg: "Input should be a valid list", type: "list_type" };
    case "object":
      return { loc, msg: "Input should be a valid dictionary", type: "dict_type" };
    default:
      return { loc, msg: "Input should not be null", type: "none_forbidden" };
  }
}

function checkUri(value: string, loc: (string | number)[], out: InputIssue[]): void {
  if (value.startsWith("data:")) {
    if (!value.includes(",")) out.push({ loc, msg: "Input should be a valid data URI", type: "url_parsing" });
    return;
  }
  let ok = true;
  try {
    new URL(value);
  } catch {
    ok = false;
  }
  if (!ok) {
    out.push({ loc, msg: "Input should be a valid URL, relative URL without a base", type: "url_parsing" });
    return;
  }
  const lower = value.slice(0, 8).toLowerCase();
  if (!lower.startsWith("http://") && !lower.startsWith("https://"))
    out.push({ loc, msg: "URL scheme should be 'http', 'https' or 'data'", type: "url_scheme" });
}

function checkNumber(s: Schema, value: number, loc: (string | number)[], out: InputIssue[]): void {
  const min = s["minimum"];
  const max = s["maximum"];
  const exMin = s["exclusiveMinimum"];
  const exMax = s["exclusiveMaximum"];
  if (typeof min === "number") {
    if (exMin === true ? value <= min : value < min)
      out.push(
        exMin === true
          ? { loc, msg: "Input should be greater than " + min, type: "greater_than" }
          : { loc, msg: "Input should be greater than or equal to " + min, type: "greater_than_equal" },
      );
  } else if (typeof exMin === "number" && value <= exMin) {
    out.push({ loc, msg: "Input should be greater than " + exMin, type: "greater_than" });
  }
  if (typeof max === "number") {
    if (exMax === true ? value >= max : value > max)
      out.push(
        exMax === true
          ? { loc, msg: "Input should be less than " + max, type: "less_than" }
          : { loc, msg: "Input should be less than or equal to " + max, type: "less_than_equal" },
      );
  } else if (typeof exMax === "number" && value >= exMax) {
    out.push({ loc, msg: "Input should be less than " + exMax, type: "less_than" });
  }
}

function checkString(s: Schema, value: string, loc: (string | number)[], out: InputIssue[]): void {
  if (s["format"] === "uri") return checkUri(value, loc, out);
  const minLength = s["minLength"];
  const maxLength = s["maxLength"];
  const length = typeof minLength === "number" || typeof maxLength === "number" ? codePoints(value) : 0;
  if (typeof minLength === "number" && length < minLength)
    out.push({ loc, msg: "String should have at least " + plural(minLength, "character"), type: "string_too_short" });
  if (typeof maxLength === "number" && length > maxLength)
    out.push({ loc, msg: "String should have at most " + plural(maxLength, "character"), type: "string_too_long" });
  const pattern = s["pattern"];
  if (typeof pattern === "string") {
    let re: RegExp | undefined;
    try {
      re = new RegExp(pattern, "u");
    } catch {
      re = undefined; // a pattern JavaScript cannot compile is left to the server
    }
    if (re && !re.test(value))
      out.push({ loc, msg: "String should match pattern '" + pattern + "'", type: "string_pattern_mismatch" });
  }
}

function checkValue(s: Schema, value: unknown, loc: (string | number)[], out: InputIssue[]): void {
  if (value === null) {
    if (s["nullable"] !== true) out.push(typeIssue(s, loc));
    return;
  }
  const choices = s["enum"];
  if (Array.isArray(choices)) {
    if (!choices.some((c) => c === value)) out.push({ loc, msg: "Input should be " + oneOfText(choices), type: "enum" });
    return;
  }
  switch (s["type"]) {
    case "string":
      // Bytes for a file input are uploaded by the replicate client and arrive as a URL.
      if (s["format"] === "uri" && isBytes(value)) return;
      if (typeof value !== "string") return void out.push(typeIssue(s, loc));
      return checkString(s, value, loc, out);
    case "integer":
      if (typeof value !== "number") return void out.push(typeIssue(s, loc));
      if (!Number.isInteger(value))
        return void out.push({
          loc,
          msg: "Input should be a valid integer, got a number with a fractional part",
          type: "int_from_float",
        });
      return checkNumber(s, value, loc, out);
    case "number":
      if (typeof value !== "number") return void out.push(typeIssue(s, loc));
      return checkNumber(s, value, loc, out);
    case "boolean":
      if (typeof value !== "boolean") out.push(typeIssue(s, loc));
      return;
    case "array": {
      if (!Array.isArray(value)) return void out.push(typeIssue(s, loc));
      const minItems = s["minItems"];
      const maxItems = s["maxItems"];
      if (typeof minItems === "number" && value.length < minItems)
        out.push({
          loc,
          msg: "List should have at least " + plural(minItems, "item") + " after validation, not " + value.length,
          type: "too_short",
        });
      if (typeof maxItems === "number" && value.length > maxItems)
        out.push({
          loc,
          msg: "List should have at most " + plural(maxItems, "item") + " after validation, not " + value.length,
          type: "too_long",
        });
      const items = s["items"];
      if (isObject(items)) value.forEach((item, i) => checkValue(items, item, loc.concat([i]), out));
      return;
    }
    case "object":
      if (!isObject(value)) out.push(typeIssue(s, loc));
      return;
    default:
      return; // no type: anything goes
  }
}

/**
 * Checks an input exactly as the server will (types, ranges, lengths, patterns, choices, required
 * inputs) and returns the problems; an empty list means the server will accept it.
 */
export function checkInput(input: unknown): InputIssue[] {
  const body = input ?? {};
  if (!isObject(body)) return [{ loc: ["body", "input"], msg: "Input should be a valid dictionary", type: "dict_type" }];
  const properties = isObject(INPUT_SCHEMA["properties"]) ? INPUT_SCHEMA["properties"] : {};
  const required = Array.isArray(INPUT_SCHEMA["required"]) ? (INPUT_SCHEMA["required"] as unknown[]) : [];
  const issues: InputIssue[] = [];
  for (const name of Object.keys(properties)) {
    const prop = properties[name];
    if (!isObject(prop)) continue;
    const given = body[name];
    const hasDefault = "default" in prop;
    if (given === undefined) {
      if (!hasDefault && required.includes(name))
        issues.push({ loc: ["body", "input", name], msg: "Field required", type: "missing" });
      continue;
    }
    if (given === null && !required.includes(name) && !hasDefault) continue;
    checkValue(prop, given, ["body", "input", name], issues);
  }
  return issues;
}

/** Applies the client's defaults, turns URL objects into strings and refuses what the server would. */
function prepareInput(input: unknown, defaults: unknown): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  const copy = (source: unknown): void => {
    if (!isObject(source)) return;
    for (const [key, value] of Object.entries(source)) if (value !== undefined) merged[key] = normalize(value);
  };
  copy(defaults);
  copy(input);
  const issues = checkInput(input === undefined || input === null || isObject(input) ? merged : input);
  if (issues.length > 0) throw new InputError(issues);
  return merged;
}

function normalize(value: unknown): unknown {
  if (value instanceof URL) return value.href;
  if (value instanceof Uint8Array && !(typeof Blob !== "undefined" && value instanceof Blob)) {
    // The replicate client uploads Blobs (and Node Buffers): bytes go as a Blob.
    return new Blob([value.slice()]);
  }
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

class RemoteFile implements OutputFile {
  readonly url: string;
  private readonly fetcher: typeof fetch;
  constructor(url: string, fetcher: typeof fetch) {
    this.url = url;
    this.fetcher = fetcher;
  }
  async blob(): Promise<Blob> {
    const res = await this.fetcher(this.url);
    if (!res.ok) throw new Error("GET " + this.url.slice(0, 100) + " answered " + res.status);
    return res.blob();
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await (await this.blob()).arrayBuffer());
  }
  toString(): string {
    return this.url;
  }
  toJSON(): string {
    return this.url;
  }
}

/** Turns the file positions of a raw output (URLs or data URIs, per the output schema) into OutputFiles. */
function decodeFiles(value: unknown, s: Schema, fetcher: typeof fetch): unknown {
  if (s["type"] === "string" && s["format"] === "uri" && typeof value === "string") return new RemoteFile(value, fetcher);
  const items = s["items"];
  if (Array.isArray(value) && isObject(items)) return value.map((v) => decodeFiles(v, items, fetcher));
  const props = s["properties"];
  if (isObject(value) && isObject(props)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const p = props[key];
      out[key] = isObject(p) ? decodeFiles(v, p, fetcher) : v;
    }
    return out;
  }
  return value;
}

function envVar(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error("aborted");
}

function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal ? abortReason(signal) : new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function retryDelay(attempt: number, retryAfter: string | null, o: Required<RetryOptions>): number {
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), o.maxDelayMs);
  }
  const exp = Math.min(o.maxDelayMs, o.baseDelayMs * Math.pow(2, attempt));
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

function connectionRefused(error: unknown): boolean {
  const cause = isObject(error) ? error["cause"] : undefined;
  return isObject(cause) && cause["code"] === "ECONNREFUSED";
}

/**
 * A fetch that retries 429 and 5xx answers (and network errors) with backoff. Creating requests (POST
 * other than cancel) are retried only when they cannot have started a prediction: 429, 502, 503, 504
 * or a refused connection. The final failure is remembered per request, so the replicate client's own
 * quick 429 retries replay it instead of hitting the server again.
 */
function retryingFetch(base: typeof fetch, options: RetryOptions | undefined): typeof fetch {
  const o: Required<RetryOptions> = {
    retries: Math.max(0, Math.floor(options?.retries ?? 4)),
    baseDelayMs: options?.baseDelayMs ?? 500,
    maxDelayMs: options?.maxDelayMs ?? 10_000,
  };
  const settled = new WeakMap<object, Response>();
  const wrapped = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const replay = init ? settled.get(init) : undefined;
    if (replay) return replay.clone();
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const creates = method === "POST" && !/\/cancel\/?$/.test(url.split("?")[0] ?? "");
    const retryStatus = (status: number): boolean =>
      status === 429 || (creates ? status === 502 || status === 503 || status === 504 : status >= 500);
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      let error: unknown;
      try {
        response = await base(input, init);
      } catch (err) {
        error = err;
      }
      const retryable = response
        ? retryStatus(response.status)
        : !init?.signal?.aborted && (creates ? connectionRefused(error) : true);
      if (!retryable || attempt >= o.retries || init?.signal?.aborted) {
        if (!response) throw error;
        if (retryable && init) settled.set(init, response.clone());
        return response;
      }
      const wait = retryDelay(attempt, response?.headers.get("retry-after") ?? null, o);
      await response?.body?.cancel().catch(() => undefined);
      await sleep(wait, init?.signal);
    }
  };
  return wrapped as typeof fetch;
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof Headers !== "undefined" && headers instanceof Headers) return headers.get(name) ?? undefined;
  if (!isObject(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value.join(" ");
    return typeof value === "string" ? value : undefined;
  }
  return undefined;
}

/** An incoming webhook: a fetch Request, or its headers and raw body (e.g. from node:http or express). */
export type WebhookRequest =
  | Request
  | { headers: Headers | Record<string, string | string[] | undefined>; body: string | Uint8Array };

export interface VerifyOptions {
  /** Reject timestamps further than this from now (replays); default 300 s. */
  toleranceSeconds?: number;
  /** The current time in ms (tests). */
  now?: () => number;
}

/**
 * Checks a webhook's Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature
 * "v1,<base64 HMAC-SHA256 of id.timestamp.body>") against the whsec_ secret, and its timestamp against
 * replays; returns the prediction it carries. Throws WebhookVerificationError otherwise. Pass the raw
 * body exactly as received: a re-serialized JSON object does not verify.
 */
export async function verifyWebhook(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions = {},
): Promise<Prediction> {
  const headers = request.headers;
  const id = headerOf(headers, "webhook-id");
  const timestamp = headerOf(headers, "webhook-timestamp");
  const signatures = headerOf(headers, "webhook-signature");
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  const seconds = Number(timestamp);
  if (!/^[0-9]+$/.test(timestamp) || !Number.isSafeInteger(seconds))
    throw new WebhookVerificationError("webhook-timestamp is not a number of seconds: " + timestamp);
  const now = (options.now ?? Date.now)() / 1000;
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - seconds) > tolerance)
    throw new WebhookVerificationError(
      "webhook-timestamp is " + Math.round(Math.abs(now - seconds)) + " s away from now (tolerance " + tolerance + " s)",
    );
  const rawBody = request instanceof Request ? await request.text() : request.body;
  const body = typeof rawBody === "string" ? rawBody : new TextDecoder().decode(rawBody);
  if (!secret.startsWith("whsec_")) throw new WebhookVerificationError("the secret must start with whsec_");
  let key: Uint8Array;
  try {
    key = base64ToBytes(secret.slice("whsec_".length));
  } catch {
    throw new WebhookVerificationError("the secret is not whsec_<base64>");
  }
  const subtle = globalThis.crypto.subtle;
  const hmacKey = await subtle.importKey("raw", key.buffer as ArrayBuffer, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await subtle.sign("HMAC", hmacKey, new TextEncoder().encode(id + "." + timestamp + "." + body)));
  const expected = bytesToBase64(mac);
  let match = false;
  for (const part of signatures.split(" ")) {
    const comma = part.indexOf(",");
    if (comma < 0 || part.slice(0, comma) !== "v1") continue;
    const given = part.slice(comma + 1);
    // Constant-time over the expected length, so timing does not reveal how much matched.
    let diff = given.length === expected.length ? 0 : 1;
    for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
    if (diff === 0) match = true;
  }
  if (!match) throw new WebhookVerificationError("no webhook-signature matches the body and the secret");
  try {
    return JSON.parse(body) as Prediction;
  } catch {
    throw new WebhookVerificationError("the webhook body is not JSON");
  }
}
`;

/** Only in clients of streaming models (unused code would fail `noUnusedLocals`). */
export const TS_SSE = String.raw`
interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/** Reads a text/event-stream body into events (fields event, data, id; data lines joined with \n). */
async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  let id = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n"), id };
          event = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
        else if (field === "id") id = text;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
}
`;
