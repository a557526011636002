/** What an output (or a file input) value is, so it can be previewed: pure, unit-tested. */
import type { Json } from "./fields.js";

export type MediaKind = "image" | "audio" | "video" | "text-file" | "file";

const EXT: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  bmp: "image/bmp",
  avif: "image/avif",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  flac: "audio/flac",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  webm: "video/webm",
  mov: "video/quicktime",
  txt: "text/plain",
  json: "application/json",
  csv: "text/csv",
  md: "text/markdown",
};

function isFileUrl(v: unknown): v is string {
  return typeof v === "string" && /^(data:|https?:\/\/|blob:)/i.test(v) && !/\s/.test(v.slice(0, 200));
}

/** MIME type of a data: URI, or guessed from a URL's extension. */
export function mimeOf(url: string): string | null {
  const data = /^data:([^;,]*)/i.exec(url);
  if (data) return data[1] ? data[1].toLowerCase() : "text/plain";
  const path = url.split(/[?#]/)[0] ?? "";
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext ? (EXT[ext] ?? null) : null;
}

export function mediaKind(mime: string | null): MediaKind {
  if (!mime) return "file";
  // Browsers cannot show PPM/TIFF and similar: those stay downloadable files.
  if (/^image\/(png|jpeg|gif|webp|svg\+xml|bmp|avif|x-icon)$/.test(mime)) return "image";
  if (mime.startsWith("audio/")) return "audio";
  if (mime.startsWith("video/")) return "video";
  if (mime.startsWith("text/") || mime === "application/json") return "text-file";
  return "file";
}

/** A file name for a download link: the URL's last segment, or output-N.ext for a data URI. */
export function fileName(url: string, index: number): string {
  if (!url.startsWith("data:")) {
    const last = (url.split(/[?#]/)[0] ?? "").split("/").pop();
    if (last) return decodeURIComponent(last);
  }
  const mime = mimeOf(url) ?? "application/octet-stream";
  const ext =
    Object.entries(EXT).find(([, m]) => m === mime)?.[0] ??
    (mime === "application/octet-stream" ? "bin" : undefined) ??
    mime.split("/")[1]?.replace(/^x-/, "") ??
    "bin";
  return `output-${index + 1}.${ext}`;
}

export type Shown =
  | { kind: "text"; text: string }
  | { kind: "json"; text: string }
  | { kind: MediaKind; url: string; mime: string | null; name: string }
  | { kind: "list"; items: Shown[] };

/** How to show an output value (`concatenate`: an iterator of text pieces shown as one text). */
export function classify(v: Json, concatenate = false, index = 0): Shown {
  if (Array.isArray(v)) {
    if (concatenate && v.every((x) => typeof x === "string")) return { kind: "text", text: v.join("") };
    return { kind: "list", items: v.map((x, i) => classify(x, false, i)) };
  }
  if (isFileUrl(v)) {
    const mime = mimeOf(v);
    return { kind: mediaKind(mime), url: v, mime, name: fileName(v, index) };
  }
  if (typeof v === "string") return { kind: "text", text: v };
  return { kind: "json", text: JSON.stringify(v, null, 2) };
}
