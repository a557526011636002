/**
 * What is deployed: replicas register their version (model name, predictor schema, OpenAPI document)
 * when READY; gateways resolve a create request's version / model / deployment to a registered version
 * and list a model's versions. Also the fleet-wide webhook secret, shared through Redis.
 */
import type { PredictorSchema } from "../schema/types.js";
import type { PredictionTarget, VersionInfo } from "../runtime/core/store.js";
import { generateWebhookSecret, secretKey } from "../runtime/v1/signing.js";
import type { Keys } from "./keys.js";
import type { RedisConnection } from "./redis.js";

export interface VersionRecord {
  model: string;
  version: string;
  schema: PredictorSchema;
  openapi: unknown;
  cogVersion: string;
  createdAt: string;
}

export async function registerVersion(
  conn: RedisConnection,
  keys: Keys,
  v: Omit<VersionRecord, "createdAt">,
): Promise<void> {
  const key = keys.version(v.version);
  await conn.pipeline([
    [
      "HSET",
      key,
      "model",
      v.model,
      "schema",
      JSON.stringify(v.schema),
      "openapi",
      JSON.stringify(v.openapi),
      "cog_version",
      v.cogVersion,
    ],
    ["HSETNX", key, "created_at", new Date().toISOString()],
    ["ZADD", keys.modelVersions(v.model), "NX", Date.now(), v.version],
    ["SADD", keys.models, v.model],
  ]);
}

/** The shared `whsec_` secret: the configured one (stored for replicas), else the stored one, else new. */
export async function ensureWebhookSecret(
  conn: RedisConnection,
  keys: Keys,
  configured: string | undefined,
): Promise<string> {
  if (configured) {
    secretKey(configured);
    await conn.call("SET", keys.webhookSecret, configured);
    return configured;
  }
  await conn.call("SET", keys.webhookSecret, generateWebhookSecret(), "NX");
  return String(await conn.call("GET", keys.webhookSecret));
}

export class UnknownTargetError extends Error {}

const CACHE_MS = 2000;

/** Gateway side: version lookups, cached briefly (versions change when replicas of a new one start). */
export class Catalog {
  private readonly cache = new Map<string, { at: number; value: VersionRecord | null }>();

  constructor(
    private readonly conn: RedisConnection,
    private readonly keys: Keys,
  ) {}

  async version(id: string): Promise<VersionRecord | null> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const h = (await this.conn.call(
      "HMGET",
      this.keys.version(id),
      "model",
      "schema",
      "openapi",
      "cog_version",
      "created_at",
    )) as (string | null)[];
    const [model, schema, openapi, cogVersion, createdAt] = h;
    const value =
      model && schema
        ? {
            model,
            version: id,
            schema: JSON.parse(schema) as PredictorSchema,
            openapi: openapi ? (JSON.parse(openapi) as unknown) : null,
            cogVersion: cogVersion ?? "",
            createdAt: createdAt ?? new Date(0).toISOString(),
          }
        : null;
    this.cache.set(id, { at: Date.now(), value });
    return value;
  }

  /** Every model a replica has registered. */
  async models(): Promise<string[]> {
    return ((await this.conn.call("SMEMBERS", this.keys.models)) as string[]).sort();
  }

  /** Version ids of a model, newest registration first. */
  async versionIds(model: string): Promise<string[]> {
    return (await this.conn.call("ZREVRANGE", this.keys.modelVersions(model), 0, -1)) as string[];
  }

  async resolve(target: PredictionTarget): Promise<VersionRecord> {
    if (target.kind === "version") {
      const v = await this.version(target.version);
      if (!v)
        throw new UnknownTargetError(
          `version ${target.version} is not deployed: no replica of it has registered with this fleet`,
        );
      return v;
    }
    if (target.kind === "model-version") {
      const v = await this.version(target.version);
      if (!v || v.model !== target.name)
        throw new UnknownTargetError(
          `version ${target.version} of ${target.name} is not deployed: no replica of it has registered` +
            (v ? ` (that version belongs to ${v.model})` : " with this fleet"),
        );
      return v;
    }
    let model = target.name;
    if (target.kind === "deployment") {
      const mapped = (await this.conn.call("HGET", this.keys.deployments, target.name)) as string | null;
      if (mapped) {
        const asVersion = await this.version(mapped);
        if (asVersion) return asVersion;
        model = mapped;
      }
    }
    for (const id of await this.versionIds(model)) {
      const v = await this.version(id);
      if (v) return v;
    }
    throw new UnknownTargetError(
      target.kind === "deployment" && model !== target.name
        ? `deployment ${target.name} points at ${model}, which has no deployed version`
        : `${target.kind} ${target.name} has no deployed version (start a replica with kiln serve --queue)`,
    );
  }

  async versions(model: string): Promise<VersionInfo[] | null> {
    const out: VersionInfo[] = [];
    for (const id of await this.versionIds(model)) {
      const v = await this.version(id);
      if (v) out.push({ id, created_at: v.createdAt, cog_version: v.cogVersion, openapi_schema: v.openapi });
    }
    return out.length > 0 ? out : null;
  }
}
