/**
 * Reads a JSON request body with the contract's errors: 413 over the limit (checked on Content-Length
 * first, then while streaming), 415 for a non-JSON content type, 400 for malformed or absurdly nested
 * JSON. An empty body reads as undefined.
 */
import type { IncomingMessage } from "node:http";
import { detail, type HttpError } from "./respond.js";
import { JsonBodyScanner, JsonScanError } from "./json-scan.js";
import { JsonStringBytes } from "../raw-json.js";

export const DEFAULT_BODY_LIMIT = 100 * 1024 * 1024;
// Deeper documents are refused before anything recursive (validation, JSON.stringify) sees them.
export const MAX_JSON_DEPTH = 256;
// Fatal: invalid UTF-8 is refused (400), never silently replaced with U+FFFD.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === "") return true; // lenient: bare curl/fetch clients
  const mime = contentType.split(";")[0]!.trim().toLowerCase();
  return mime === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mime);
}

export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    throw detail(413, `request body is larger than the ${limit} byte limit`, { connection: "close" });
  }
  const hasBody =
    (declared !== undefined && declared !== "0") || req.headers["transfer-encoding"] !== undefined;
  if (hasBody && !isJsonType(req.headers["content-type"])) {
    throw detail(
      415,
      `unsupported content type ${JSON.stringify(req.headers["content-type"])}: send application/json`,
      {
        connection: "close",
      },
    );
  }
  const scanner = new JsonBodyScanner();
  await readBody(req, limit, (chunk) => scanner.push(chunk)).catch((err: unknown) => {
    // Refused before the rest arrived: the connection closes instead of reading it.
    throw err instanceof JsonScanError ? invalidJson(err.message, { connection: "close" }) : err;
  });
  return parseScanned(scanner);
}

function invalidJson(why: string, headers?: Record<string, string>): HttpError {
  return detail(400, `invalid JSON body: ${why}`, headers);
}

/**
 * The value of a scanned body: the small skeleton decoded and parsed whole, its big strings put back
 * as the bytes they arrived in. Errors name positions in the body as sent.
 */
export function parseScanned(scanner: JsonBodyScanner): unknown {
  let scanned;
  try {
    scanned = scanner.end();
  } catch (err) {
    if (err instanceof JsonScanError) throw invalidJson(err.message);
    throw err;
  }
  if (scanned.bytes === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(scanned.skeleton);
  } catch {
    throw detail(400, "invalid JSON body: it is not valid UTF-8");
  }
  if (scanned.depth > MAX_JSON_DEPTH)
    throw detail(400, `invalid JSON body: nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message.replace(
      /at position (\d+)/,
      (_, at: string) => `at position ${scanner.bodyPosition(Number(at))}`,
    );
    throw invalidJson(message);
  }
  let restored: unknown;
  try {
    restored = scanner.restore(value);
  } catch (err) {
    if (err instanceof JsonScanError) throw invalidJson(err.message);
    throw err;
  }
  // A body that is one big string is no envelope: the caller refuses it as the string it is.
  return restored instanceof JsonStringBytes ? restored.text() : restored;
}

/**
 * Hands the body's chunks to `onChunk` as they arrive, or a 413 as soon as they pass `limit`. Plain stream events: an async iterator
 * over the request costs several promises per request, the most common request being one chunk.
 */
function readBody(req: IncomingMessage, limit: number, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause(); // the 413 goes out with `connection: close`; the rest of the body is not read
        reject(detail(413, `request body is larger than the ${limit} byte limit`, { connection: "close" }));
        return;
      }
      try {
        onChunk(chunk);
      } catch (err) {
        // Malformed already: answer now (the rest of the body is not read).
        done();
        req.pause();
        reject(err as Error);
      }
    };
    const onEnd = (): void => {
      done();
      resolve();
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(new Error("the client closed the connection before sending the whole body"));
    };
    const done = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * Maximum bracket depth outside strings, in one linear pass (no recursion). Strings are skipped with
 * indexOf (native speed), so a body that is mostly one big string costs little more than a memchr.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Jump to the closing quote: the first `"` after an even run of backslashes.
      let q = text.indexOf('"', i + 1);
      for (;;) {
        if (q < 0) return max; // unterminated: JSON.parse reports it
        let b = q - 1;
        while (b > i && text.charCodeAt(b) === 92) b--;
        if ((q - 1 - b) % 2 === 0) break;
        q = text.indexOf('"', q + 1);
      }
      i = q;
    } else if (c === 123 || c === 91) {
      if (++depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
