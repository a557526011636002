/**
 * What the user chose on the command line, typed and checked once. Renderers take DeployFacts and
 * these options and nothing else.
 */
import { UsageError } from "../errors.js";
import { checkName } from "./names.js";

export type DeployTarget = "swarm" | "kubernetes";
/** file: `test -f /var/run/cog/ready` (servers that write it); http: GET /health-check is READY/BUSY. */
export type Readiness = "file" | "http";
export type Autoscaler = "none" | "keda" | "hpa";
export type EndpointMode = "vip" | "dnsrr";

/** Debian's redis-server in a small image; the test builds it from debootstrap (docs/deploy.md). */
export const DEFAULT_REDIS_IMAGE = "redis:7-bookworm";

export interface DeployOptions {
  name: string;
  replicas: number;
  /** Kubernetes: the namespace every object goes to (none: the kubectl context's). */
  namespace: string | undefined;
  readiness: Readiness;
  /** Requests per replica ("1", "500m"; "2Gi"): the scheduler's sizing, and memory's limit. */
  cpu: string;
  memory: string;
  /** redis://... with --queue: replicas consume the stream, the gateway serves /v1. */
  queue: string | undefined;
  redisImage: string;
  /** The image the gateway runs (default: the model image, which carries the kiln runtime). */
  gatewayImage: string | undefined;
  autoscaler: Autoscaler;
  maxReplicas: number;
  /** Swarm: vip publishes through the routing mesh; dnsrr keeps replicas on the overlay only. */
  endpointMode: EndpointMode;
  /** Swarm with vip: the published port of the model (or of the gateway with --queue). */
  publish: number;
  /** Swarm: placement constraints, e.g. node.labels.gpu==true. */
  constraints: string[];
}

const CPU = /^(?:\d+(?:\.\d+)?|\d+m)$/;
const MEMORY = /^\d+(?:\.\d+)?(?:[KMGTPE]i|[kMGTPE])?$/;

function positiveInteger(raw: string, flag: string, max = 1000): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}, got "${raw}".`);
  return n;
}

function checkPort(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${flag} must be a port from 1 to 65535, got "${raw}".`);
  return n;
}

function checkQueueUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--queue "${raw}" is not a URL.`, "Give the Redis URL, e.g. redis://redis:6379/0.");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new UsageError(`--queue must be a redis:// or rediss:// URL, got "${raw}".`);
  return raw;
}

function checkResources(cpu: string, memory: string): void {
  if (!CPU.test(cpu)) throw new UsageError(`--cpu "${cpu}" is not a CPU quantity (e.g. 1, 0.5, 500m).`);
  if (!MEMORY.test(memory))
    throw new UsageError(`--memory "${memory}" is not a memory quantity (e.g. 512Mi, 2Gi).`);
}

function checkOptions(o: DeployOptions): DeployOptions {
  checkName(o.name, "--name");
  checkResources(o.cpu, o.memory);
  if (o.maxReplicas < o.replicas)
    throw new UsageError(`--max-replicas (${o.maxReplicas}) is below --replicas (${o.replicas}).`);
  if (o.autoscaler === "keda" && !o.queue)
    throw new UsageError(
      "--autoscaler keda scales on the queue's lag and needs --queue.",
      "Without a queue use --autoscaler hpa (CPU).",
    );
  return o;
}

/** The command line as commander hands it over (strings; checked by optionsFromFlags). */
export interface DeployFlags {
  replicas: string;
  name?: string | undefined;
  namespace?: string | undefined;
  queue?: string | undefined;
  redisImage: string;
  gatewayImage?: string | undefined;
  readiness: Readiness;
  cpu: string;
  memory: string;
  autoscaler?: Autoscaler | undefined;
  maxReplicas?: string | undefined;
  endpointMode: EndpointMode;
  publish: string;
  constraint: string[];
}

/** Pure: flags -> checked options (the name falls back to the one derived from the image). */
export function optionsFromFlags(
  target: DeployTarget,
  flags: DeployFlags,
  defaultName: string,
): DeployOptions {
  const replicas = positiveInteger(flags.replicas, "--replicas");
  const queue = flags.queue === undefined ? undefined : checkQueueUrl(flags.queue);
  const autoscaler = flags.autoscaler ?? (queue && target === "kubernetes" ? "keda" : "none");
  return checkOptions({
    name: flags.name === undefined ? defaultName : checkName(flags.name, "--name"),
    replicas,
    namespace: flags.namespace === undefined ? undefined : checkName(flags.namespace, "--namespace"),
    readiness: flags.readiness,
    cpu: flags.cpu,
    memory: flags.memory,
    queue,
    redisImage: flags.redisImage,
    gatewayImage: flags.gatewayImage,
    autoscaler,
    maxReplicas:
      flags.maxReplicas === undefined ? replicas * 4 : positiveInteger(flags.maxReplicas, "--max-replicas"),
    endpointMode: flags.endpointMode,
    publish: checkPort(flags.publish, "--publish"),
    constraints: flags.constraint,
  });
}
