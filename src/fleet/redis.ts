/**
 * The only module that talks to ioredis. ioredis because it is the long-maintained Node client with
 * automatic reconnects (and re-subscribes), an offline queue replicas rely on across a Redis restart,
 * pipelining, Lua and Buffer replies, and no native code, so it bundles into the image's runtime.
 * Everything else in src/fleet sees RedisConnection: commands by name, scripts, pub/sub.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../runtime/logger.js";

export type RedisArg = string | number | Buffer;

// Redis away (or still loading its data after a restart): the caller should retry, not fail.
const UNAVAILABLE =
  /enableOfflineQueue|Connection is closed|max retries per request|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|^LOADING|^TRYAGAIN|^MASTERDOWN/;

export class RedisUnavailableError extends Error {}
export class RedisUrlError extends Error {}

/** A Lua script, run by EVALSHA with a fallback to EVAL after a restart emptied the script cache. */
export class Script {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }
}

export interface ConnectionOptions {
  /** Replicas queue commands while Redis is away (their results must not be lost); gateways fail fast. */
  offlineQueue: boolean;
  /** Shown in CLIENT LIST. */
  name: string;
  logger: Logger;
}

/** Checks a redis:// URL early, with a message that says what is wrong. */
export function parseRedisUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`not a Redis URL: ${JSON.stringify(url)} (expected redis://HOST:PORT[/DB])`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new RedisUrlError(`not a Redis URL: ${JSON.stringify(url)} (expected redis://HOST:PORT[/DB])`);
  return u;
}

export class RedisConnection {
  private readonly client: Redis;
  private closed = false;

  constructor(
    readonly url: string,
    private readonly options: ConnectionOptions,
  ) {
    parseRedisUrl(url);
    this.client = new Redis(url, {
      connectionName: options.name,
      enableOfflineQueue: options.offlineQueue,
      maxRetriesPerRequest: options.offlineQueue ? null : 1,
      // Reconnect quickly after a restart, never give up.
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
      // The INFO ready check cannot run on a connection that is (re)subscribing.
      enableReadyCheck: false,
    });
    let down = false;
    this.client.on("error", (err: Error) => {
      if (!down && !this.closed) options.logger.warn("redis connection error", { name: options.name, err });
      down = true;
    });
    this.client.on("ready", () => {
      if (down) options.logger.info("redis connection restored", { name: options.name });
      down = false;
    });
  }

  get ready(): boolean {
    return this.client.status === "ready";
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  async waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off("ready", onReady);
        reject(
          new RedisUnavailableError(`cannot reach Redis at ${redactUrl(this.url)} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once("ready", onReady);
    });
  }

  /** A second connection to the same Redis (blocking reads and subscriptions need their own). */
  duplicate(name: string, offlineQueue = this.options.offlineQueue): RedisConnection {
    return new RedisConnection(this.url, { ...this.options, name, offlineQueue });
  }

  call(command: string, ...args: RedisArg[]): Promise<unknown> {
    return this.wrap(this.client.call(command, ...args));
  }

  /** Like call(), with bulk replies as Buffers (file contents). */
  callBuffer(command: string, ...args: RedisArg[]): Promise<unknown> {
    return this.wrap(this.client.callBuffer(command, ...args));
  }

  async script(s: Script, keys: string[], args: RedisArg[]): Promise<unknown> {
    try {
      return await this.call("EVALSHA", s.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return this.call("EVAL", s.lua, keys.length, ...keys, ...args);
    }
  }

  /** Several commands in one round trip; each reply, or throws the first error. */
  async pipeline(commands: [string, ...RedisArg[]][]): Promise<unknown[]> {
    const p = this.client.pipeline();
    for (const [cmd, ...args] of commands) p.call(cmd, ...args);
    const results = await this.wrap(p.exec());
    return (results ?? []).map(([err, value]) => {
      // A command can fail inside a pipeline that itself went out (LOADING after a restart, a closed
      // connection mid-flight): the same "retry later" as a failed call, not an unexplained error.
      if (err) throw asUnavailable(err, this.url);
      return value;
    });
  }

  /** Subscribes this connection (then only usable for pub/sub); re-subscribed after reconnects. */
  async subscribe(channels: string[], onMessage: (channel: string, message: string) => void): Promise<void> {
    this.client.on("message", onMessage);
    await this.wrap(this.client.subscribe(...channels));
  }

  /** Called after each reconnect (e.g. to catch up on what pub/sub missed). */
  onReconnect(fn: () => void): void {
    let first = true;
    this.client.on("ready", () => {
      if (first) first = false;
      else fn();
    });
  }

  /** Drops the connection at once (pending commands fail); no reconnect. */
  disconnect(): void {
    this.closed = true;
    this.client.disconnect(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw asUnavailable(err, this.url);
    }
  }
}

/** Redis away or still loading, as RedisUnavailableError (the caller retries); any other error as it is. */
export function asUnavailable(err: unknown, url: string): unknown {
  const msg = (err as Error | undefined)?.message ?? "";
  if (!UNAVAILABLE.test(msg)) return err;
  return new RedisUnavailableError(`Redis at ${redactUrl(url)} is unavailable: ${msg}`, { cause: err });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** XINFO-style flat [k, v, k, v] replies as an object. */
export function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
