/**
 * The /v1/files store: uploads kept on disk (a private temp dir) for the server's life or until they
 * expire or are deleted, with per-file and total size limits. Their URLs are valid prediction inputs;
 * the core resolves them through `resolve()` straight from disk.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { mkdtemp, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UploadedBytes } from "./multipart.js";

export interface FileLimitsV1 {
  /** Largest single upload (bytes). */
  maxFileBytes: number;
  /** All stored uploads together (bytes). */
  maxTotalBytes: number;
  /** Lifetime of an upload (ms); expired ones are removed lazily. */
  ttlMs: number;
}

export const DEFAULT_V1_FILE_LIMITS: FileLimitsV1 = {
  maxFileBytes: 100 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  ttlMs: 24 * 3600 * 1000,
};

/** An upload as /v1/files shows it. */
export interface FileInfo {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
  seq: number;
}

export interface StoredFile extends FileInfo {
  path: string;
}

/** What the /v1/files routes need: kiln serve keeps uploads on disk (FileStore), the fleet in Redis. */
export interface HostedFiles {
  readonly limits: FileLimitsV1;
  /** Host names clients reached this server by (so uploads' URLs are recognised as inputs). */
  readonly hosts: Set<string>;
  /** Port this server listens on (a webhook pointing here is refused). */
  port: number;
  /** A new upload: its bytes whole, or as a streamed upload's pieces with their checksum. */
  create(
    bytes: Buffer | UploadedBytes,
    name: string,
    contentType: string,
    metadata: Record<string, unknown>,
  ): Promise<FileInfo>;
  get(id: string): FileInfo | undefined | Promise<FileInfo | undefined>;
  page(
    before: number | null,
    size: number,
  ): { items: FileInfo[]; next: number | null } | Promise<{ items: FileInfo[]; next: number | null }>;
  delete(id: string): Promise<boolean>;
  /** The upload's bytes. */
  open(f: FileInfo): Readable | Promise<Readable>;
}

export class StoreFullError extends Error {}

/** A new upload's description (fresh id, checksum, expiry); RangeError beyond the per-file limit. */
export function newFileInfo(
  bytes: Buffer | UploadedBytes,
  name: string,
  contentType: string,
  metadata: Record<string, unknown>,
  limits: FileLimitsV1,
  seq: number,
): FileInfo {
  const size = Buffer.isBuffer(bytes) ? bytes.length : bytes.size;
  if (size > limits.maxFileBytes) {
    throw new RangeError(`the file is ${size} bytes, more than the ${limits.maxFileBytes} byte limit`);
  }
  const now = new Date();
  return {
    id: randomBytes(12).toString("hex"),
    name,
    contentType,
    size,
    sha256: Buffer.isBuffer(bytes) ? createHash("sha256").update(bytes).digest("hex") : bytes.sha256,
    metadata,
    createdAt: now,
    expiresAt: new Date(now.getTime() + limits.ttlMs),
    seq,
  };
}

export class FileStore implements HostedFiles {
  private readonly files = new Map<string, StoredFile>();
  private dir: Promise<string> | null = null;
  private total = 0;
  private seq = 0;
  /** Port this server listens on; URLs on another port are someone else's. */
  port = 0;
  /** Host names clients reached this server by (from Host headers), besides loopback ones. */
  readonly hosts = new Set<string>();

  constructor(readonly limits: FileLimitsV1 = DEFAULT_V1_FILE_LIMITS) {}

  async create(
    bytes: Buffer | UploadedBytes,
    name: string,
    contentType: string,
    metadata: Record<string, unknown>,
  ): Promise<StoredFile> {
    this.prune();
    const info = newFileInfo(bytes, name, contentType, metadata, this.limits, this.seq + 1);
    if (this.total + info.size > this.limits.maxTotalBytes) {
      throw new StoreFullError(
        `the files store is full (${this.limits.maxTotalBytes} bytes): delete files first`,
      );
    }
    this.dir ??= mkdtemp(join(tmpdir(), "kiln-files-"));
    const path = join(await this.dir, info.id);
    // Piece by piece: a streamed upload is never joined into one buffer.
    await writeFile(path, Buffer.isBuffer(bytes) ? bytes : bytes.parts);
    const file: StoredFile = { ...info, path };
    this.seq = info.seq;
    this.files.set(info.id, file);
    this.total += file.size;
    return file;
  }

  /**
   * Keeps a file the model wrote (a training's weights) as if it had been uploaded: copied in and
   * checksummed as a stream. Only the total limit applies (the per-file one is for uploads).
   */
  async adopt(source: string, name: string, contentType: string): Promise<StoredFile> {
    this.prune();
    const { size } = await stat(source);
    if (this.total + size > this.limits.maxTotalBytes) {
      throw new StoreFullError(
        `the files store is full (${this.limits.maxTotalBytes} bytes) and ${name} is ${size} bytes: ` +
          "delete files (DELETE /v1/files/{id}) or raise the limit",
      );
    }
    this.dir ??= mkdtemp(join(tmpdir(), "kiln-files-"));
    const id = randomBytes(12).toString("hex");
    const path = join(await this.dir, id);
    const hash = createHash("sha256");
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(createReadStream(source), hashing, createWriteStream(path));
    const now = new Date();
    const file: StoredFile = {
      id,
      name,
      contentType,
      size,
      sha256: hash.digest("hex"),
      metadata: {},
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.limits.ttlMs),
      seq: ++this.seq,
      path,
    };
    this.files.set(id, file);
    this.total += size;
    return file;
  }

  get(id: string): StoredFile | undefined {
    this.prune();
    return this.files.get(id);
  }

  /** Newest first, after the cursor (a seq) when given. */
  page(before: number | null, size: number): { items: StoredFile[]; next: number | null } {
    this.prune();
    const all = [...this.files.values()].filter((f) => before === null || f.seq < before);
    const items = all.slice(-size).reverse();
    const oldest = items[items.length - 1];
    return { items, next: oldest && all.length > items.length ? oldest.seq : null };
  }

  open(f: FileInfo): Readable {
    return createReadStream((f as StoredFile).path);
  }

  async delete(id: string): Promise<boolean> {
    const f = this.files.get(id);
    if (!f) return false;
    this.files.delete(id);
    this.total -= f.size;
    await unlink(f.path).catch(() => undefined);
    return true;
  }

  /** For the core's LocalFileResolver: a /v1/files/{id}[/download] URL on this server -> the file. */
  resolve(url: string): { path: string; name: string } | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    const m = /^\/v1\/files\/([^/]+)(?:\/download)?\/?$/.exec(u.pathname);
    if (
      !m ||
      u.protocol !== "http:" ||
      Number(u.port || 80) !== this.port ||
      !(isLoopback(u.hostname) || this.hosts.has(u.hostname))
    )
      return null;
    const f = this.get(decodeURIComponent(m[1]!));
    return f ? { path: f.path, name: f.name } : null;
  }

  async dispose(): Promise<void> {
    const dir = this.dir;
    this.files.clear();
    this.total = 0;
    if (dir) await rm(await dir, { recursive: true, force: true });
  }

  private prune(): void {
    const now = Date.now();
    for (const f of this.files.values()) if (f.expiresAt.getTime() <= now) void this.delete(f.id);
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127\./.test(host);
}
