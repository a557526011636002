/**
 * The one table of file name extensions and media types, used by both halves: the CLI (data URIs for
 * `-i name=@file`, file names for outputs) and the runtime (input files written from URLs and data URIs,
 * data URIs and uploads for file outputs). Where a type has several extensions, the one chosen is the
 * one Python's `mimetypes.guess_extension` gives (`image/jpeg` -> `.jpg`), because that is what Cog
 * names input files and predictors look at that name.
 */
import { extname } from "node:path";

/** Extension -> media type (Python's mimetypes defaults, plus common model formats it lacks). */
const BY_EXTENSION: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".bmp": "image/bmp",
  ".svg": "image/svg+xml",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".wav": "audio/wav",
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".flac": "audio/flac",
  ".aac": "audio/aac",
  ".opus": "audio/opus",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".mov": "video/quicktime",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".html": "text/html",
  ".md": "text/markdown",
  ".json": "application/json",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".tar": "application/x-tar",
  ".gz": "application/gzip",
};

/** Media type -> extension where the table above has several (or the type has aliases). */
const PREFERRED_EXTENSION: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/tiff": ".tiff",
  "audio/wav": ".wav",
  "audio/x-wav": ".wav",
  "audio/wave": ".wav",
  "audio/vnd.wave": ".wav",
  "audio/x-flac": ".flac",
  "application/octet-stream": ".bin",
};

const OCTET_STREAM = "application/octet-stream";

/** The media type of a file by its extension; application/octet-stream when unknown. */
export function mediaTypeOf(file: string): string {
  return BY_EXTENSION[extname(file).toLowerCase()] ?? OCTET_STREAM;
}

/** The extension for a media type (parameters ignored), or undefined when the table does not know it. */
export function extensionFor(mediaType: string): string | undefined {
  const type = mediaType.split(";")[0]?.trim().toLowerCase() ?? "";
  const preferred = PREFERRED_EXTENSION[type];
  if (preferred) return preferred;
  for (const [ext, t] of Object.entries(BY_EXTENSION)) if (t === type) return ext;
  return undefined;
}

/**
 * A data URI for a file's bytes. A type the table does not know keeps the file's name as a `name=`
 * parameter, so the other side can still save `weights.npy` rather than `output.bin`.
 */
export function toDataUri(bytes: Buffer, file: string): string {
  return `${dataUriPrefix(file)}${bytes.toString("base64")}`;
}

/** `data:<type>[;name=...];base64,`: what precedes the base64 of `file`'s bytes in its data URI. */
export function dataUriPrefix(file: string): string {
  const type = mediaTypeOf(file);
  const ext = extname(file).toLowerCase();
  const named = type === OCTET_STREAM && ext !== "" && ext !== extensionFor(OCTET_STREAM);
  const name = named ? `;name=${encodeURIComponent(basenameOf(file))}` : "";
  return `data:${type}${name};base64,`;
}

function basenameOf(file: string): string {
  return file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1);
}

export interface DecodedDataUri {
  mimeType: string;
  bytes: Buffer;
  /** A `name=`/`filename=` parameter, when the sender gave the file's name. */
  name?: string | undefined;
}

/** Decodes `data:[<type>][;param...][;base64],<data>`; undefined when `text` is not a data URI. */
export function decodeDataUri(text: string): DecodedDataUri | undefined {
  if (!text.startsWith("data:")) return undefined;
  const comma = text.indexOf(",");
  if (comma < 0) return undefined;
  const meta = text.slice(5, comma).split(";");
  const base64 = meta.at(-1)?.toLowerCase() === "base64";
  const mimeType = (meta[0] || "text/plain").toLowerCase();
  const data = text.slice(comma + 1);
  const bytes = base64 ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "utf8");
  const param = meta.slice(1).find((m) => /^(file)?name=/i.test(m));
  const name = param ? decodeURIComponent(param.slice(param.indexOf("=") + 1)) : undefined;
  return name ? { mimeType, bytes, name } : { mimeType, bytes };
}
