/**
 * /v1/files for the fleet: uploads live in Redis (hash: meta JSON + content, expiring with the upload),
 * so every gateway lists and serves them and the replica that runs a prediction reads them directly.
 * The total size is bounded by Redis itself (maxmemory); the per-file limit is enforced here.
 */
import { Readable } from "node:stream";
import {
  newFileInfo,
  type FileInfo,
  type FileLimitsV1,
  type HostedFiles,
} from "../runtime/v1/files-store.js";
import type { UploadedBytes } from "../runtime/v1/multipart.js";
import type { Keys } from "./keys.js";
import type { RedisConnection } from "./redis.js";

interface Meta extends Omit<FileInfo, "createdAt" | "expiresAt"> {
  createdAt: string;
  expiresAt: string;
}

export class RedisFiles implements HostedFiles {
  readonly hosts = new Set<string>();
  port = 0;

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: Keys,
    readonly limits: FileLimitsV1,
  ) {}

  async create(
    upload: Buffer | UploadedBytes,
    name: string,
    contentType: string,
    metadata: Record<string, unknown>,
  ): Promise<FileInfo> {
    const info = newFileInfo(upload, name, contentType, metadata, this.limits, 0); // checks the size first
    // Redis keeps the content as one value.
    const bytes = Buffer.isBuffer(upload) ? upload : Buffer.concat(upload.parts, upload.size);
    info.seq = Number(await this.conn.call("INCR", this.keys.filesSeq));
    const meta: Meta = {
      ...info,
      createdAt: info.createdAt.toISOString(),
      expiresAt: info.expiresAt.toISOString(),
    };
    const id = info.id;
    const key = this.keys.file(id);
    await this.conn.pipeline([
      ["HSET", key, "meta", JSON.stringify(meta), "content", bytes],
      ["PEXPIRE", key, this.limits.ttlMs],
      ["ZADD", this.keys.files, info.seq, id],
    ]);
    return toInfo(meta);
  }

  async get(id: string): Promise<FileInfo | undefined> {
    const text = (await this.conn.call("HGET", this.keys.file(id), "meta")) as string | null;
    return text ? toInfo(JSON.parse(text) as Meta) : undefined;
  }

  async page(before: number | null, size: number): Promise<{ items: FileInfo[]; next: number | null }> {
    const ids = (await this.conn.call(
      "ZREVRANGEBYSCORE",
      this.keys.files,
      before === null ? "+inf" : `(${before}`,
      "-inf",
      "LIMIT",
      0,
      size + 1,
    )) as string[];
    const items: FileInfo[] = [];
    const gone: string[] = [];
    for (const id of ids) {
      const f = await this.get(id);
      if (f) items.push(f);
      else gone.push(id);
    }
    if (gone.length > 0) await this.conn.call("ZREM", this.keys.files, ...gone);
    const more = items.length > size;
    const page = items.slice(0, size);
    return { items: page, next: more ? page[page.length - 1]!.seq : null };
  }

  async delete(id: string): Promise<boolean> {
    const [deleted] = (await this.conn.pipeline([
      ["DEL", this.keys.file(id)],
      ["ZREM", this.keys.files, id],
    ])) as [number, number];
    return deleted === 1;
  }

  async open(f: FileInfo): Promise<Readable> {
    const content = (await this.conn.callBuffer("HGET", this.keys.file(f.id), "content")) as Buffer | null;
    if (!content) throw new Error(`upload ${f.id} is gone`);
    return Readable.from([content]);
  }

  /** The upload a /v1/files/{id}[/download] URL names, if it is one of ours. */
  async idOf(url: string): Promise<string | null> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    const m = /^\/v1\/files\/([0-9a-f]{24})(?:\/download)?\/?$/.exec(u.pathname);
    if (!m) return null;
    const exists = Number(await this.conn.call("HEXISTS", this.keys.file(m[1]!), "meta"));
    return exists === 1 ? m[1]! : null;
  }
}

function toInfo(m: Meta): FileInfo {
  return { ...m, createdAt: new Date(m.createdAt), expiresAt: new Date(m.expiresAt) };
}
