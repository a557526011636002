/**
 * Every Redis key and channel the fleet uses, in one place (docs/fleet.md lists them). A prefix
 * (default `kiln:`) lets several fleets share one Redis. Model names and version ids appear in keys
 * as they are: version ids are hex digests or `sha256:<hex>`, model names `owner/name`.
 */
const DEFAULT_PREFIX = "kiln:";
/** The consumer group every replica of a version joins. */
export const GROUP = "replicas";

export interface Keys {
  /** Stream of queued jobs of one model version (field `id`). */
  queue(version: string): string;
  /** Hash of one prediction: job, status, consumer, attempt, cancel, outputs, entry. */
  prediction(id: string): string;
  /** Stream of one prediction's events (fields `t` and `d`). */
  events(id: string): string;
  /** Sorted set of prediction ids by seq (GET /v1/predictions). */
  index: string;
  /** Sorted set of training ids by seq (GET /v1/trainings); the seq counter is shared. */
  trainings: string;
  /** Counter behind seq. */
  seq: string;
  /** Hash of one deployed version: model, schema, openapi, cog_version, created_at. */
  version(version: string): string;
  /** Sorted set of a model's versions by registration time. */
  modelVersions(model: string): string;
  /** Set of known model names. */
  models: string;
  /** Hash deployment `owner/name` -> version id or model name. */
  deployments: string;
  /** String (with a TTL) per live replica: its heartbeat. */
  replica(consumer: string): string;
  /** The shared `whsec_` webhook signing secret. */
  webhookSecret: string;
  /** Hash of one uploaded file: meta (JSON) and content. */
  file(id: string): string;
  /** Sorted set of file ids by seq. */
  files: string;
  /** Counter behind file seqs. */
  filesSeq: string;
  /** Pub/sub: a prediction id whose events stream grew. */
  eventsChannel: string;
  /** Pub/sub: a prediction id whose cancel was requested. */
  cancelChannel: string;
  /** The output cache's keys (all start with `cachePrefix`; fleet/cache-scripts.ts builds them in Lua). */
  cache: CacheKeys;
}

export interface CacheKeys {
  /** Prefix of every cache key: `<prefix>cache:`. */
  prefix: string;
  /** String: one entry's JSON (output with blob refs, blobs, bytes, createdAt). */
  entry(key: string): string;
  /** Sorted set of entry keys by last use (the `clock` counter in stats): the LRU order. */
  lru: string;
  /** Sorted set of entry keys by creation (ms): the TTL order. */
  created: string;
  /** Hash blob sha -> how many entries hold it. */
  refs: string;
  /** Integer: bytes held (entries' JSON plus each distinct blob once). */
  bytes: string;
  /** Hash of fleet-wide counters: hits, misses, stores, evictions, expired, clock (uses). */
  stats: string;
  /** String (with a TTL, renewed while running): the replica computing this key (single flight). */
  flight(key: string): string;
  /** String (with a TTL): a blob file being deleted right now. */
  deleting(sha: string): string;
}

export function makeKeys(prefix: string = DEFAULT_PREFIX): Keys {
  return {
    queue: (v) => `${prefix}queue:${v}`,
    prediction: (id) => `${prefix}prediction:${id}`,
    events: (id) => `${prefix}events:${id}`,
    index: `${prefix}predictions`,
    trainings: `${prefix}trainings`,
    seq: `${prefix}seq`,
    version: (v) => `${prefix}version:${v}`,
    modelVersions: (m) => `${prefix}model:${m}:versions`,
    models: `${prefix}models`,
    deployments: `${prefix}deployments`,
    replica: (c) => `${prefix}replica:${c}`,
    webhookSecret: `${prefix}webhook-secret`,
    file: (id) => `${prefix}file:${id}`,
    files: `${prefix}files`,
    filesSeq: `${prefix}files-seq`,
    eventsChannel: `${prefix}events`,
    cancelChannel: `${prefix}cancel`,
    cache: cacheKeys(`${prefix}cache:`),
  };
}

function cacheKeys(p: string): CacheKeys {
  return {
    prefix: p,
    entry: (k) => `${p}entry:${k}`,
    lru: `${p}lru`,
    created: `${p}created`,
    refs: `${p}refs`,
    bytes: `${p}bytes`,
    stats: `${p}stats`,
    flight: (k) => `${p}flight:${k}`,
    deleting: (sha) => `${p}deleting:${sha}`,
  };
}
