/**
 * Reads a multipart/form-data upload as it arrives (413 beyond the byte limit, 400 when malformed):
 * the part boundaries are found with indexOf on each chunk (native speed), a file part's bytes are kept
 * as the request's own buffers and checksummed piece by piece, so a 100 MB upload never stops the event
 * loop for a parse, a copy or a hash of the whole.
 */
import { createHash, type Hash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { hostedError } from "./errors.js";

/** A file part's bytes, in the pieces they arrived in, and their SHA-256 (hex). */
export interface UploadedBytes {
  parts: readonly Buffer[];
  size: number;
  sha256: string;
}

export interface FilePart extends UploadedBytes {
  filename: string;
  /** The part's Content-Type, if it gave one. */
  type: string | undefined;
}

export interface MultipartUpload {
  /** Parts without a filename, as text. */
  fields: Map<string, string>;
  files: Map<string, FilePart>;
}

// A part's headers, and a text field, are small: anything bigger is not a well-meant upload.
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 1024 * 1024;

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

function malformed(why: string): Error {
  // Refused before the rest arrived: the connection closes instead of reading it.
  return hostedError(400, "Bad request", `malformed multipart body: ${why}`, { connection: "close" });
}

/** The boundary parameter of a multipart/form-data content type, or null. */
function boundaryOf(type: string): string | null {
  if (!/^multipart\/form-data\s*;/i.test(type)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(type);
  return m ? (m[1] ?? m[2]!) : null;
}

/** `name="value"` parameters of a Content-Disposition header (quoted strings unescaped). */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([A-Za-z0-9*._-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!.trim();
    params.set(m[1]!.toLowerCase(), raw);
  }
  const extended = params.get("filename*");
  if (extended !== undefined) {
    // RFC 5987: charset'language'percent-encoded
    const m = /^utf-8'[^']*'(.*)$/i.exec(extended);
    if (m) {
      try {
        params.set("filename", decodeURIComponent(m[1]!));
      } catch {
        // not decodable: the plain filename stands
      }
    }
  }
  return params;
}

interface OpenPart {
  name: string;
  filename: string | undefined;
  type: string | undefined;
  pieces: Buffer[];
  size: number;
  hash: Hash | null;
}

/** The multipart parser's states, in the order a part goes through them. */
type State = "preamble" | "delimiter" | "headers" | "body" | "done";

class MultipartParser {
  readonly upload: MultipartUpload = { fields: new Map(), files: new Map() };
  private readonly delimiter: Buffer;
  private state: State = "preamble";
  // Bytes kept from the previous chunk: a possible start of the delimiter, or unfinished headers.
  private carry: Buffer;
  private part: OpenPart | null = null;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    // The body starts with `--boundary`: a CRLF in front makes that the same delimiter as the others.
    this.carry = Buffer.from(CRLF);
  }

  push(chunk: Buffer): void {
    const buf = this.carry.length > 0 ? this.join(chunk) : chunk;
    this.carry = Buffer.alloc(0);
    let at = 0;
    while (at < buf.length && this.state !== "done") {
      if (this.state === "preamble" || this.state === "body") {
        const found = buf.indexOf(this.delimiter, at);
        if (found < 0) {
          // All but what could be the start of a delimiter belongs to the part (or the preamble).
          const keep = Math.min(buf.length - at, this.delimiter.length - 1);
          this.data(buf.subarray(at, buf.length - keep));
          this.carry = Buffer.from(buf.subarray(buf.length - keep));
          return;
        }
        this.data(buf.subarray(at, found));
        if (this.state === "body") this.closePart();
        this.state = "delimiter";
        at = found + this.delimiter.length;
      } else if (this.state === "delimiter") {
        // `--` ends the body; else optional whitespace, then CRLF and the next part's headers.
        if (buf.length - at < 2) break;
        if (buf[at] === 0x2d && buf[at + 1] === 0x2d) {
          this.state = "done";
          return;
        }
        const eol = buf.indexOf(CRLF, at);
        if (eol < 0) {
          if (buf.length - at > 256) throw malformed("no line break after a boundary");
          break;
        }
        if (!/^[ \t]*$/.test(buf.toString("latin1", at, eol))) throw malformed("text after a boundary");
        this.state = "headers";
        at = eol + 2;
      } else {
        const end = buf.indexOf(HEADER_END, at);
        // A part without headers: its blank line comes at once.
        const bare = buf[at] === 0x0d && buf[at + 1] === 0x0a;
        if (end < 0 && !bare) {
          if (buf.length - at > MAX_HEADER_BYTES) throw malformed("part headers too long");
          break;
        }
        const headerEnd = bare ? at : end;
        this.openPart(buf.toString("utf8", at, headerEnd));
        this.state = "body";
        at = headerEnd + (bare ? 2 : 4);
      }
    }
    if (at < buf.length && this.state !== "done") this.carry = Buffer.from(buf.subarray(at));
  }

  /**
   * The kept bytes and the new chunk as one buffer to parse. In a part's body the kept bytes are only
   * a possible start of the delimiter: when the seam shows they are not, they are data and the chunk
   * is parsed as it is (no copy of it); headers and the rare real seam are joined (small or once).
   */
  private join(chunk: Buffer): Buffer {
    const carry = this.carry;
    const reach = this.delimiter.length - 1;
    if ((this.state === "body" || this.state === "preamble") && chunk.length >= reach) {
      const seam = Buffer.concat([carry, chunk.subarray(0, reach)]);
      const found = seam.indexOf(this.delimiter);
      if (found < 0 || found >= carry.length) {
        this.data(carry);
        return chunk;
      }
    }
    return Buffer.concat([carry, chunk]);
  }

  end(): MultipartUpload {
    if (this.state !== "done") throw malformed("it ends before the closing boundary");
    return this.upload;
  }

  private openPart(headerText: string): void {
    let disposition: string | undefined;
    let type: string | undefined;
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === "content-disposition") disposition = value;
      else if (key === "content-type") type = value;
    }
    if (!disposition || !/^form-data\b/i.test(disposition))
      throw malformed("a part without `Content-Disposition: form-data`");
    const params = dispositionParams(disposition);
    const name = params.get("name");
    if (name === undefined) throw malformed("a part without a name");
    const filename = params.get("filename");
    this.part = {
      name,
      filename,
      type,
      pieces: [],
      size: 0,
      hash: filename !== undefined ? createHash("sha256") : null,
    };
  }

  private data(piece: Buffer): void {
    const part = this.part;
    if (!part || this.state !== "body" || piece.length === 0) return;
    part.size += piece.length;
    if (part.hash) part.hash.update(piece);
    else if (part.size > MAX_FIELD_BYTES)
      throw malformed(`field ${JSON.stringify(part.name)} is longer than ${MAX_FIELD_BYTES} bytes`);
    part.pieces.push(piece);
  }

  private closePart(): void {
    const part = this.part;
    this.part = null;
    if (!part) return;
    if (part.hash) {
      this.upload.files.set(part.name, {
        parts: part.pieces,
        size: part.size,
        sha256: part.hash.digest("hex"),
        filename: part.filename ?? "",
        type: part.type,
      });
    } else {
      this.upload.fields.set(part.name, Buffer.concat(part.pieces, part.size).toString("utf8"));
    }
  }
}

export async function readMultipart(req: IncomingMessage, limit: number): Promise<MultipartUpload> {
  const type = req.headers["content-type"] ?? "";
  const boundary = boundaryOf(type);
  if (boundary === null) {
    throw hostedError(
      415,
      "Unsupported media type",
      "upload files as multipart/form-data with a `content` part",
    );
  }
  const tooBig = (): Error =>
    hostedError(413, "Payload too large", `the upload is larger than the ${limit} byte limit`, {
      connection: "close",
    });
  if (Number(req.headers["content-length"] ?? 0) > limit) throw tooBig();
  const parser = new MultipartParser(boundary);
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooBig();
    parser.push(chunk);
  }
  return parser.end();
}
