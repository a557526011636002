/**
 * File inputs (http(s) URLs and data: URIs -> files in a per-prediction temp dir) and file outputs
 * (`{"$file": path}` from the worker -> data: URI, or PUT to --upload-url). Never a local path out.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { assertPublicUrl } from "./url-policy.js";
import { dataUriPrefix, decodeDataUri, extensionFor, mediaTypeOf, toDataUri } from "../schema/media-types.js";
import { JsonStringBytes, RAW_ATTACHMENT_MIN_BYTES, RawJson } from "./raw-json.js";

export interface FileLimits {
  /** Largest single downloaded input (bytes). */
  maxDownloadBytes: number;
  /** Whole-download timeout per file (ms). */
  downloadTimeoutMs: number;
  /** Refuse URLs that resolve to private, loopback or link-local addresses (see url-policy.ts). */
  denyPrivateAddresses?: boolean | undefined;
}

const MAX_REDIRECTS = 5;

export const DEFAULT_FILE_LIMITS: FileLimits = { maxDownloadBytes: 1024 ** 3, downloadTimeoutMs: 300_000 };

class FileInputError extends Error {}

/** Maps a URL served by this very server (e.g. a /v1/files upload) to a local file, or null. */
export type LocalFileResolver = (url: string) => { path: string; name: string } | null;

/** A per-prediction directory under the OS temp dir; removed by `removeTempDir`. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "kiln-pred-"));
}

export async function removeTempDir(dir: string | null): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

function safeName(raw: string, fallback: string): string {
  const name = raw.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  return name.length > 0 ? name.slice(-120) : fallback;
}

/**
 * Replaces the file fields of a validated input by local paths, downloading concurrently. Each file
 * gets its own sub-directory so equal names cannot collide.
 */
export async function resolveFileInputs(
  input: Record<string, unknown>,
  fields: readonly string[],
  dir: string,
  limits: FileLimits,
  signal: AbortSignal,
  localFile?: LocalFileResolver,
): Promise<Record<string, unknown>> {
  const out = { ...input };
  const jobs: Promise<void>[] = [];
  let n = 0;
  for (const field of fields) {
    const v = out[field];
    if (v === null || v === undefined) continue;
    const fetchOne = (value: unknown, set: (path: string) => void): void => {
      const sub = join(dir, String(n++));
      jobs.push(fetchInputFile(field, value, sub, limits, signal, localFile).then(set));
    };
    if (Array.isArray(v)) {
      const list: unknown[] = [...v];
      out[field] = list;
      list.forEach((item, i) => fetchOne(item, (p) => (list[i] = p)));
    } else {
      fetchOne(v, (p) => (out[field] = p));
    }
  }
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return out;
}

async function fetchInputFile(
  field: string,
  value: unknown,
  dir: string,
  limits: FileLimits,
  signal: AbortSignal,
  localFile?: LocalFileResolver,
): Promise<string> {
  if (value instanceof JsonStringBytes) {
    await mkdir(dir, { recursive: true });
    const streamed = await writeBigDataUri(field, value, dir, limits);
    if (streamed !== null) return streamed;
    value = value.text(); // a URL this long, or a data URI in a form that cannot be streamed
  }
  if (typeof value !== "string") throw new FileInputError(`input ${field}: a file must be a URL string`);
  await mkdir(dir, { recursive: true });
  if (value.startsWith("data:")) return writeDataUri(field, value, dir, limits);
  // Our own uploads are copied from disk: no HTTP round trip to ourselves (and no auth needed).
  const local = localFile?.(value);
  if (local) {
    const path = join(dir, safeName(local.name, "file"));
    await copyFile(local.path, path);
    return path;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FileInputError(`input ${field}: not a URL: ${value.slice(0, 100)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FileInputError(
      `input ${field}: only http(s) URLs and data: URIs are accepted, got ${url.protocol}`,
    );
  }
  const timeout = AbortSignal.timeout(limits.downloadTimeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let res: Response;
  try {
    res = limits.denyPrivateAddresses
      ? await fetchPublic(url, both)
      : await fetch(url, { signal: both, redirect: "follow" });
  } catch (err) {
    throw new FileInputError(
      `input ${field}: download of ${url.origin}${url.pathname} failed: ${describe(err, timeout)}`,
    );
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new FileInputError(
      `input ${field}: download of ${url.origin}${url.pathname} answered HTTP ${res.status}`,
    );
  }
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > limits.maxDownloadBytes) {
    await res.body.cancel().catch(() => undefined);
    throw new FileInputError(
      `input ${field}: file is ${declared} bytes, more than the ${limits.maxDownloadBytes} limit`,
    );
  }
  const name = safeName(
    decodeURIComponent(basename(url.pathname)),
    "file" + (extensionFor(res.headers.get("content-type") ?? "") ?? ""),
  );
  const path = join(dir, name);
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > limits.maxDownloadBytes)
        cb(new FileInputError(`input ${field}: file exceeds the ${limits.maxDownloadBytes} byte limit`));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), limit, createWriteStream(path), {
      signal: both,
    });
  } catch (err) {
    if (err instanceof FileInputError) throw err;
    throw new FileInputError(
      `input ${field}: download of ${url.origin}${url.pathname} failed: ${describe(err, timeout)}`,
    );
  }
  return path;
}

/** fetch() following redirects by hand, checking every hop against the private-address policy. */
async function fetchPublic(start: URL, signal: AbortSignal): Promise<Response> {
  let url = start;
  for (let hop = 0; ; hop++) {
    await assertPublicUrl(url);
    const res = await fetch(url, { signal, redirect: "manual" });
    const next = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !next) return res;
    await res.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(next, url);
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new Error(`redirected to a ${url.protocol} URL`);
  }
}

function describe(err: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return "timed out";
  const e = err as { name?: string; message?: string; cause?: { message?: string } };
  if (e.name === "AbortError") return "canceled";
  return e.cause?.message ?? e.message ?? String(err);
}

/** Named like Cog names it: input.<extension Python's mimetypes gives> (input.jpg for image/jpeg). */
function dataUriFileName(decoded: { mimeType: string; name?: string }): string {
  const fromName = decoded.name ? extname(decoded.name) : "";
  return `input${fromName || (extensionFor(decoded.mimeType) ?? "")}`;
}

async function writeDataUri(field: string, uri: string, dir: string, limits: FileLimits): Promise<string> {
  const decoded = decodeDataUri(uri);
  if (!decoded) throw new FileInputError(`input ${field}: malformed data URI (no comma)`);
  if (decoded.bytes.length > limits.maxDownloadBytes)
    throw new FileInputError(`input ${field}: data URI exceeds the byte limit`);
  const path = join(dir, dataUriFileName(decoded));
  await writeFile(path, decoded.bytes);
  return path;
}

// A data URI's media type and parameters come before its comma: this many characters are plenty.
const DATA_URI_HEAD = 4096;

/**
 * A big base64 data URI kept as request bytes, decoded piece by piece straight into its file: the
 * event loop never holds the whole text or the whole file. Null when it is not that (a long URL, an
 * escaped or percent-encoded data URI): the caller takes the general path.
 */
async function writeBigDataUri(
  field: string,
  value: JsonStringBytes,
  dir: string,
  limits: FileLimits,
): Promise<string | null> {
  if (value.escaped) return null;
  const head = value.head(DATA_URI_HEAD);
  const comma = head.indexOf(",");
  if (!head.startsWith("data:") || comma < 0 || !/^[\x20-\x7e]*$/.test(head.slice(0, comma))) return null;
  const meta = decodeDataUri(`${head.slice(0, comma)},`);
  if (!meta || !/;base64$/i.test(head.slice(0, comma))) return null;
  const path = join(dir, dataUriFileName(meta));
  let skip = comma + 1; // header bytes (ASCII: one byte per character)
  let carry = "";
  let size = 0;
  const decode = (text: string): Buffer => {
    // Into a buffer of the largest possible size: faster than Buffer.from(text, "base64").
    const out = Buffer.allocUnsafe(Math.ceil(text.length / 4) * 3);
    const bytes = out.subarray(0, out.write(text, 0, out.length, "base64"));
    size += bytes.length;
    if (size > limits.maxDownloadBytes)
      throw new FileInputError(`input ${field}: data URI exceeds the byte limit`);
    return bytes;
  };
  async function* pieces(): AsyncGenerator<Buffer> {
    for (const piece of value.contentPieces()) {
      const rest = skip >= piece.length ? null : piece.subarray(skip);
      skip = Math.max(0, skip - piece.length);
      if (!rest) continue;
      // Whole groups of four characters decode on their own; the rest waits for the next piece.
      const text = carry + rest.toString("latin1");
      const whole = text.length - (text.length % 4);
      carry = text.slice(whole);
      if (whole > 0) yield decode(text.slice(0, whole));
    }
    if (carry.length > 0) yield decode(carry);
  }
  await pipeline(Readable.from(pieces()), createWriteStream(path));
  return path;
}

// Read in pieces that are a multiple of 3 bytes, so each piece's base64 joins the next one's cleanly.
const DATA_URI_READ_BYTES = 3 * 256 * 1024;

/**
 * A big file's data URI as a JSON string kept in pieces: read and base64-encoded a piece at a time, so
 * the event loop never stops for the whole file, and never serialized again on its way out.
 */
async function dataUriJson(path: string): Promise<RawJson> {
  const parts: Buffer[] = [Buffer.from(`"${dataUriPrefix(path)}`)];
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, {
    highWaterMark: DATA_URI_READ_BYTES,
  }) as AsyncIterable<Buffer>) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 3);
    parts.push(Buffer.from(bytes.subarray(0, whole).toString("base64"), "latin1"));
    carry = bytes.subarray(whole);
  }
  if (carry.length > 0) parts.push(Buffer.from(carry.toString("base64"), "latin1"));
  parts.push(Buffer.from('"'));
  return new RawJson(
    parts,
    parts.reduce((n, p) => n + p.length, 0),
  );
}

/** How file outputs leave the server. */
export interface OutputFileOptions {
  uploadUrl?: string | undefined;
  /** Takes precedence over uploadUrl and data URIs: keeps the file and answers its URL. */
  store?: OutputFileStore | undefined;
  signal?: AbortSignal;
}

/** Keeps one output file (a local path the worker wrote) and resolves to the URL it is served at. */
export type OutputFileStore = (path: string) => Promise<string>;

/** `{"$file": path}`: how workers hand a file output to the server. */
export function isFileRef(v: unknown): v is { $file: string } {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { $file?: unknown }).$file === "string" &&
    Object.keys(v).length === 1
  );
}

/**
 * Walks an output value and replaces every `{"$file": path}` by a data URI or an uploaded URL. A big
 * output kept as bytes (RawJson) is only parsed when its text names a file at all.
 */
export async function encodeOutputFiles(value: unknown, options: OutputFileOptions): Promise<unknown> {
  if (value instanceof RawJson) {
    // A JSON string is never a file reference: a big text output passes without a look inside.
    if (value.parts[0]?.[0] === 0x22) return value;
    return (await value.mentions('"$file"')) ? encodeOutputFiles(value.value(), options) : value;
  }
  if (isFileRef(value)) return encodeFile(value.$file, options);
  if (Array.isArray(value)) return Promise.all(value.map((v) => encodeOutputFiles(v, options)));
  if (typeof value === "object" && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await encodeOutputFiles(v, options)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

async function encodeFile(path: string, options: OutputFileOptions): Promise<string | RawJson> {
  if (options.store) return options.store(path);
  const mime = mediaTypeOf(path);
  const { size } = await stat(path);
  if (!options.uploadUrl) {
    return size < RAW_ATTACHMENT_MIN_BYTES ? toDataUri(await readFile(path), path) : dataUriJson(path);
  }
  const target = `${options.uploadUrl.replace(/\/+$/, "")}/${encodeURIComponent(basename(path))}`;
  const res = await fetch(target, {
    method: "PUT",
    headers: { "content-type": mime, "content-length": String(size) },
    body: Readable.toWeb(createReadStream(path)) as unknown as ReadableStream,
    duplex: "half",
    signal: options.signal ?? null,
  } as RequestInit);
  await res.body?.cancel().catch(() => undefined);
  if (!res.ok)
    throw new Error(`upload of ${basename(path)} to ${options.uploadUrl} failed: HTTP ${res.status}`);
  const location = res.headers.get("location");
  const url = new URL(location ?? target, target);
  url.search = "";
  return url.toString();
}
