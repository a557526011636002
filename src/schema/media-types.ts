/** File name extension <-> media type, for data URIs sent as inputs and files written from outputs. */
import { extname } from "node:path";

const TYPES: Record<string, string> = {
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
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".html": "text/html",
  ".md": "text/markdown",
  ".json": "application/json",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".tar": "application/x-tar",
  ".gz": "application/gzip",
  ".npy": "application/octet-stream",
  ".bin": "application/octet-stream",
};

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": ".jpg",
  "audio/wav": ".wav",
  "audio/x-wav": ".wav",
  "audio/wave": ".wav",
  "application/octet-stream": ".bin",
  "text/plain": ".txt",
};

export function mimeTypeOf(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
}

export function extensionOf(mimeType: string): string {
  const type = mimeType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (EXTENSIONS[type]) return EXTENSIONS[type];
  for (const [ext, t] of Object.entries(TYPES)) if (t === type) return ext;
  return ".bin";
}

export function toDataUri(bytes: Buffer, file: string): string {
  return `data:${mimeTypeOf(file)};base64,${bytes.toString("base64")}`;
}

export interface DecodedDataUri {
  mimeType: string;
  bytes: Buffer;
  /** A `name=`/`filename=` parameter, when the server sent the file's name. */
  name?: string | undefined;
}

/** Decodes `data:[<type>][;param...][;base64],<data>`; undefined when `text` is not a data URI. */
export function decodeDataUri(text: string): DecodedDataUri | undefined {
  if (!text.startsWith("data:")) return undefined;
  const comma = text.indexOf(",");
  if (comma < 0) return undefined;
  const meta = text.slice(5, comma).split(";");
  const base64 = meta.at(-1)?.toLowerCase() === "base64";
  const mimeType = meta[0] || "text/plain";
  const data = text.slice(comma + 1);
  const bytes = base64 ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data), "utf8");
  const param = meta.slice(1).find((m) => /^(file)?name=/i.test(m));
  const name = param ? decodeURIComponent(param.slice(param.indexOf("=") + 1)) : undefined;
  return name ? { mimeType, bytes, name } : { mimeType, bytes };
}
