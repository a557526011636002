/**
 * ClientModel -> a self-contained TypeScript module on top of the official `replicate` npm client:
 * typed Input/Output, the pinned version, defaults, run(), stream() for iterator models, create() with
 * a webhook, verifyWebhook(), retries, and the server's own input checks. Pure and deterministic.
 */
import { enumTypeNames, fieldDocLines } from "./docs.js";
import { schemaMarker } from "./marker.js";
import { scalarName, type ClientModel, type FieldNode, type ScalarNames, type TypeNode } from "./model.js";
import { TS_RUNTIME, TS_SSE } from "./ts-runtime.js";

export interface GenerateOptions {
  kilnVersion: string;
  /** The command that regenerates this file, shown in its header. */
  command: string;
}

const RESERVED = new Set([
  "Input",
  "Output",
  "OutputChunk",
  "OutputFile",
  "FileInput",
  "Client",
  "ClientOptions",
  "RunOptions",
  "CreateOptions",
  "Prediction",
  "InputIssue",
  "InputError",
  "PredictionError",
  "RetryOptions",
  "WebhookRequest",
  "WebhookEvent",
  "VerifyOptions",
  "Schema",
  "Replicate",
]);

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function propKey(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function comment(lines: string[], indent: string): string[] {
  if (lines.length === 0) return [];
  const safe = lines.map((l) => l.replaceAll("*/", "*\\/"));
  if (safe.length === 1) return [`${indent}/** ${safe[0]} */`];
  return [`${indent}/**`, ...safe.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

const TS_NAMES: ScalarNames = {
  string: "string",
  integer: "number",
  number: "number",
  boolean: "boolean",
  any: "unknown",
  fileInput: "FileInput",
  fileOutput: "OutputFile",
};

function typeText(t: TypeNode, side: "input" | "output", indent: string): string {
  switch (t.kind) {
    case "enum":
      return t.values.length === 0 ? "never" : t.values.map((v) => JSON.stringify(v)).join(" | ");
    case "array": {
      const item = typeText(t.items, side, indent);
      const wrapped = /[|&]/.test(item) && !item.startsWith("{") ? `(${item})` : item;
      return side === "input" ? `readonly ${wrapped}[]` : `${wrapped}[]`;
    }
    case "object":
      return t.fields ? objectText(t.fields, side, indent) : "Record<string, unknown>";
    case "union":
      return t.members.map((m) => typeText(m, side, indent)).join(" | ");
    default:
      return scalarName(t.kind, side, TS_NAMES);
  }
}

function objectText(fields: FieldNode[], side: "input" | "output", indent: string): string {
  if (fields.length === 0) return "Record<string, never>";
  const inner = `${indent}  `;
  const lines = fields.flatMap((f) => [
    ...comment(fieldDocLines(f), inner),
    `${inner}${member(f, side, inner)}`,
  ]);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function member(f: FieldNode, side: "input" | "output", indent: string, named?: string): string {
  let type = named ?? typeText(f.type, side, indent);
  if (f.nullable) type += " | null";
  // Output fields the schema does not require may be absent or null (pydantic's Optional).
  if (!f.required) type += side === "output" && !f.nullable ? " | null | undefined" : " | undefined";
  return `${propKey(f.name)}${f.required ? "" : "?"}: ${type};`;
}

function inputDeclaration(m: ClientModel, enums: Map<string, string>): string[] {
  const out: string[] = [];
  for (const f of m.inputs) {
    const name = enums.get(f.name);
    if (name === undefined) continue;
    out.push(
      ...comment([`The choices of \`${f.name}\`.`], ""),
      `export type ${name} = ${typeText(f.type, "input", "")};`,
      "",
    );
  }
  out.push(...comment([`The inputs of ${m.model}.`], ""));
  if (m.inputs.length === 0) {
    out.push("export type Input = Record<string, never>;");
    return out;
  }
  out.push("export interface Input {");
  for (const f of m.inputs) {
    const doc = fieldDocLines(f);
    if (f.deprecated)
      doc.push(...(doc.length > 0 ? [""] : []), "@deprecated The model marks this input as deprecated.");
    out.push(...comment(doc, "  "), `  ${member(f, "input", "  ", enums.get(f.name))}`);
  }
  out.push("}");
  return out;
}

function outputDeclaration(m: ClientModel): string[] {
  const t = m.output.type;
  const nullable = m.output.nullable ? " | null" : "";
  if (m.output.stream !== "none") {
    const chunk = typeText(t, "output", "");
    return [
      ...comment(
        [
          m.output.stream === "concatenate"
            ? "One piece of the output as the model streams it (join them for the whole text)."
            : "One item of the output as the model streams it.",
        ],
        "",
      ),
      `export type OutputChunk = ${chunk};`,
      "",
      ...comment(["The whole output: every chunk, in order."], ""),
      "export type Output = OutputChunk[];",
    ];
  }
  if (t.kind === "object" && t.fields && t.fields.length > 0 && !m.output.nullable) {
    return [
      ...comment(["The output of the model."], ""),
      `export interface Output ${objectText(t.fields, "output", "")}`,
    ];
  }
  return [
    ...comment(["The output of the model."], ""),
    `export type Output = ${typeText(t, "output", "")}${nullable};`,
  ];
}

function defaultsDeclaration(m: ClientModel): string[] {
  const entries = m.inputs.filter((f) => f.default !== undefined);
  const body = entries.map((f) => `  ${propKey(f.name)}: ${JSON.stringify(f.default?.value)},`);
  return [
    ...comment(["The model's own defaults (the server applies them to inputs you leave out)."], ""),
    entries.length === 0
      ? "export const MODEL_DEFAULTS: Readonly<Partial<Input>> = {};"
      : `export const MODEL_DEFAULTS: Readonly<Partial<Input>> = {\n${body.join("\n")}\n};`,
  ];
}

const CLIENT_CLASS = String.raw`
/** The events a webhook can be sent for. */
export type WebhookEvent = "start" | "output" | "logs" | "completed";

export interface ClientOptions {
  /** API token (default: REPLICATE_API_TOKEN). A local kiln server accepts any token unless started with --api-token. */
  auth?: string;
  /** The /v1 API base URL (default: REPLICATE_API_BASE_URL, else DEFAULT_BASE_URL). */
  baseUrl?: string;
  /** Run another version than the pinned VERSION (e.g. a staging image's digest). */
  version?: string;
  /** Your defaults, applied under each call's input (e.g. a house style); checked like any input. */
  defaults?: Partial<Input>;
  retry?: RetryOptions;
  /** The fetch to use (default: globalThis.fetch); retries wrap it. */
  fetch?: typeof fetch;
  /** Milliseconds between polls while waiting for a prediction (default 500). */
  pollIntervalMs?: number;
}

export interface RunOptions {
  /** Aborting cancels the prediction on the server, then rejects. */
  signal?: AbortSignal;
}

export interface CreateOptions {
  /** A URL the server POSTs the prediction to as it progresses (signed: see verifyWebhook). */
  webhook?: string;
  /** Which events trigger a webhook (default: all four). */
  webhookEventsFilter?: readonly WebhookEvent[];
  /** Hold the request up to this many seconds for the prediction to finish (Prefer: wait; 1-60). */
  waitSeconds?: number;
  signal?: AbortSignal;
}

/** A prediction as the API reports it (output still raw: use Client.output() for typed files). */
export type Prediction = ReplicatePrediction;

/** The thin, typed client of this one model: every call runs the pinned version with checked input. */
export class Client {
  readonly replicate: Replicate;
  readonly version: string | null;
  private readonly defaults: Partial<Input>;
  private readonly fetcher: typeof fetch;
  private readonly pollIntervalMs: number;

  constructor(options: ClientOptions = {}) {
    this.fetcher = retryingFetch(options.fetch ?? globalThis.fetch.bind(globalThis), options.retry);
    const auth = options.auth ?? envVar("REPLICATE_API_TOKEN");
    this.replicate = new Replicate({
      ...(auth !== undefined ? { auth } : {}),
      baseUrl: options.baseUrl ?? envVar("REPLICATE_API_BASE_URL") ?? DEFAULT_BASE_URL,
      useFileOutput: false,
      fetch: this.fetcher,
    });
    this.version = options.version ?? VERSION;
    this.defaults = options.defaults ?? {};
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  /** Runs the model and resolves with its typed output; rejects with InputError or PredictionError. */
  async run(input: Input, options: RunOptions = {}): Promise<Output> {
    // A held create (Prefer: wait) answers fastest, but aborting it would leave the prediction running
    // with no id to cancel: with a signal, create returns at once and the wait polls (and can cancel).
    const created = await this.create(input, options.signal ? { signal: options.signal } : { waitSeconds: 60 });
    const done = await this.wait(created, options);
    return this.output(done);
  }

  /** Starts a prediction and returns at once (or after waitSeconds); pair with a webhook or wait(). */
  async create(input: Input, options: CreateOptions = {}): Promise<Prediction> {
    const prepared = prepareInput(input, this.defaults);
    const request = {
      input: prepared,
      ...(options.webhook !== undefined ? { webhook: options.webhook } : {}),
      ...(options.webhookEventsFilter !== undefined ? { webhook_events_filter: [...options.webhookEventsFilter] } : {}),
      ...(options.waitSeconds !== undefined ? { wait: Math.min(60, Math.max(1, Math.ceil(options.waitSeconds))) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    return this.version !== null
      ? this.replicate.predictions.create({ ...request, version: this.version })
      : this.replicate.predictions.create({ ...request, model: MODEL });
  }

  /** Polls until the prediction ends; rejects with PredictionError unless it succeeded. */
  async wait(prediction: Prediction, options: RunOptions = {}): Promise<Prediction> {
    let current = prediction;
    const signal = options.signal;
    let interval = Math.min(50, this.pollIntervalMs);
    try {
      while (!TERMINAL.has(current.status)) {
        // Quick first polls for short predictions, then every pollIntervalMs.
        await sleep(interval, signal);
        interval = Math.min(interval * 2, this.pollIntervalMs);
        current = await this.replicate.predictions.get(current.id, signal ? { signal } : {});
      }
    } catch (err) {
      if (signal?.aborted) await this.cancel(current.id).catch(() => undefined);
      throw err;
    }
    if (current.status === "failed") throw new PredictionError("failed", String(current.error ?? "unknown error"), current);
    if (current.status !== "succeeded") throw new PredictionError("canceled", "", current);
    return current;
  }

  /** A prediction by id (e.g. the one a webhook told you about). */
  get(id: string): Promise<Prediction> {
    return this.replicate.predictions.get(id);
  }

  /** Cancels a prediction; a finished one is returned unchanged. */
  cancel(id: string): Promise<Prediction> {
    return this.replicate.predictions.cancel(id);
  }

  /** The typed output of a succeeded prediction (from create/wait/get or a verified webhook). */
  output(prediction: Prediction): Output {
    if (prediction.status !== "succeeded")
      throw new PredictionError(prediction.status === "failed" ? "failed" : "canceled", String(prediction.error ?? ""), prediction);
    return decodeFiles(prediction.output, OUTPUT_SCHEMA, this.fetcher) as Output;
  }
`;

const STREAM_METHOD = String.raw`
  /**
   * Runs the model and yields each output chunk as it is produced (server-sent events). Breaking out
   * of the loop or aborting the signal cancels the prediction on the server.
   */
  async *stream(input: Input, options: RunOptions = {}): AsyncGenerator<OutputChunk, void, undefined> {
    const signal = options.signal;
    const created = await this.create(input, signal ? { signal } : {});
    const url = created.urls.stream;
    if (!url) throw new Error("the server offers no stream for prediction " + created.id);
    let finished = false;
    try {
      const res = await this.fetcher(url, { headers: { accept: "text/event-stream" }, ...(signal ? { signal } : {}) });
      if (!res.ok || !res.body) throw new Error("GET " + url + " answered " + res.status);
      const item = isObject(OUTPUT_SCHEMA["items"]) ? OUTPUT_SCHEMA["items"] : {};
      for await (const event of readSse(res.body)) {
        if (event.event === "output") {
          const raw = item["type"] === "string" ? event.data : JSON.parse(event.data);
          yield decodeFiles(raw, item, this.fetcher) as OutputChunk;
        } else if (event.event === "error") {
          finished = true;
          const p = await this.get(created.id).catch(() => undefined);
          throw new PredictionError("failed", event.data, p);
        } else if (event.event === "done") {
          finished = true;
          const reason = (JSON.parse(event.data || "{}") as { reason?: string }).reason;
          if (reason === "canceled") throw new PredictionError("canceled", "", await this.get(created.id).catch(() => undefined));
          if (reason === "error") throw new PredictionError("failed", "", await this.get(created.id).catch(() => undefined));
          return;
        }
      }
      finished = true;
    } finally {
      if (!finished) await this.cancel(created.id).catch(() => undefined);
    }
  }
`;

/** The whole module. */
export function generateTs(m: ClientModel, opts: GenerateOptions): string {
  const enums = enumTypeNames(m.inputs, RESERVED);
  const streams = m.output.stream !== "none";
  const header = [
    "/**",
    ` * Typed client for the model ${m.model}, generated by \`kiln client\` (kiln ${opts.kilnVersion}) from ${m.source}.`,
    " * Do not edit: regenerate with",
    ` *   ${opts.command}`,
    " * which also reports what changed in the model's interface and refuses breaking changes unless told.",
    " *",
    ` * Every prediction runs version ${m.version ?? "(none pinned: the model's latest)"}.`,
    " * Needs the official replicate package (npm install replicate).",
    " */",
    `// ${schemaMarker(m)}`,
    "/* eslint-disable */",
    'import Replicate from "replicate";',
    'import type { Prediction as ReplicatePrediction } from "replicate";',
    "",
    "/** The model, as owner/name. */",
    `export const MODEL = ${JSON.stringify(m.model)};`,
    "/** The version every prediction runs (the image digest, or the API's version id). */",
    `export const VERSION: string | null = ${JSON.stringify(m.version)};`,
    "/** The API this client talks to unless told otherwise (baseUrl, REPLICATE_API_BASE_URL). */",
    `export const DEFAULT_BASE_URL = ${JSON.stringify(m.baseUrl ?? "https://api.replicate.com/v1")};`,
    "",
    "/** A file input: an http(s) URL, a data: URI, a URL object, or bytes (the replicate client uploads them). */",
    "export type FileInput = string | URL | Blob | Uint8Array;",
    "",
    "/** A file the model produced: its URL (or data: URI) and its bytes on demand. */",
    "export interface OutputFile {",
    "  readonly url: string;",
    "  bytes(): Promise<Uint8Array>;",
    "  blob(): Promise<Blob>;",
    "}",
    "",
    ...inputDeclaration(m, enums),
    "",
    ...outputDeclaration(m),
    "",
    ...defaultsDeclaration(m),
    "",
    "/** The input schema the checks below use (the server's, with references inlined). */",
    `const INPUT_SCHEMA: Schema = ${JSON.stringify(m.schema.input, null, 2)};`,
    "",
    "/** The output schema: where file URLs are (they become OutputFiles). */",
    `const OUTPUT_SCHEMA: Schema = ${JSON.stringify(m.schema.output, null, 2)};`,
  ];
  return (
    [
      header.join("\n"),
      CLIENT_CLASS.trimEnd(),
      ...(streams ? [STREAM_METHOD.trimEnd()] : []),
      "}",
      TS_RUNTIME.trimEnd(),
      ...(streams ? [TS_SSE.trimEnd()] : []),
    ].join("\n") + "\n"
  );
}
