/**
 * DeployFacts + DeployOptions -> a compose 3.8 stack file for `docker stack deploy` (pure; golden-tested).
 * Replicas update start-first (a new task is healthy before an old one stops), restart on any exit,
 * report healthy when the server is READY, get the drain time as their stop grace period, and reserve
 * an NVIDIA-GPU generic resource when the image needs a GPU.
 *
 * Networking: vip publishes the model through the routing mesh (the usual Swarm set-up); dnsrr keeps
 * the replicas on the stack's attachable overlay network, reached by DNS name (for engines without
 * IPVS, or behind your own proxy joined to that network).
 */
import { SHUTDOWN_MARGIN_SECONDS, type DeployFacts } from "./facts.js";
import { imageAnnotations, objectLabels } from "./labels.js";
import type { DeployOptions } from "./options.js";
import { readinessCommand, SETUP_GRACE_SECONDS } from "./probes.js";
import { memoryBytes, swarmCpus } from "./quantities.js";
import { GATEWAY_COMMAND, GATEWAY_RESOURCES, gatewayImage, replicaEnv, stackRunsRedis } from "./queue.js";
import type { YamlValue } from "./yaml.js";

const STACK_NETWORK = "kiln";
/** Service names inside the stack (Swarm prefixes them with the stack name: NAME_model). */
const MODEL_SERVICE = "model";
const GATEWAY_SERVICE = "gateway";
const REDIS_SERVICE = "redis";
/** Redis keeps its append-only file here, on the volume; it runs on a manager, where the volume is. */
const REDIS_COMMAND = ["redis-server", "--protected-mode", "no", "--appendonly", "yes", "--dir", "/data"];
/** The resource kind nodes advertise with `--node-generic-resource NVIDIA-GPU=<uuid>`. */
const SWARM_GPU_KIND = "NVIDIA-GPU";

export type Stack = { version: string; services: Record<string, Record<string, YamlValue>> } & Record<
  string,
  YamlValue
>;

function healthcheck(test: string[]): Record<string, YamlValue> {
  return {
    test: ["CMD", ...test],
    interval: "3s",
    timeout: "5s",
    retries: 3,
    start_period: `${SETUP_GRACE_SECONDS}s`,
  };
}

/** Seconds a stopping replica keeps answering before it closes (Swarm has no preStop hook). */
const SHUTDOWN_DELAY_SECONDS = 3;

function updatePolicy(): Record<string, YamlValue> {
  return {
    parallelism: 1,
    delay: "0s",
    order: "start-first",
    failure_action: "rollback",
    monitor: "15s",
  };
}

function modelService(facts: DeployFacts, o: DeployOptions): Record<string, YamlValue> {
  const reservations: Record<string, YamlValue> = {
    cpus: swarmCpus(o.cpu),
    memory: String(memoryBytes(o.memory)),
  };
  if (facts.gpu)
    reservations.generic_resources = [{ discrete_resource_spec: { kind: SWARM_GPU_KIND, value: 1 } }];
  const service: Record<string, YamlValue> = {
    image: facts.image,
    healthcheck: healthcheck(readinessCommand(o.readiness)),
    stop_grace_period: `${(o.queue ? 0 : SHUTDOWN_DELAY_SECONDS) + facts.drainSeconds + SHUTDOWN_MARGIN_SECONDS}s`,
    networks: [STACK_NETWORK],
  };
  if (o.queue) service.environment = { KILN_QUEUE: o.queue, ...replicaEnv(facts) };
  // Clients resolve the replicas by DNS: after SIGTERM a task keeps answering while its address leaves
  // the service's records (Kubernetes gets the same from a preStop sleep). Queue replicas take no calls.
  else service.environment = { KILN_SHUTDOWN_DELAY: String(SHUTDOWN_DELAY_SECONDS) };
  // In queue mode replicas take work from Redis: only the gateway is published.
  if (o.endpointMode === "vip" && !o.queue)
    service.ports = [{ target: facts.port, published: o.publish, protocol: "tcp", mode: "ingress" }];
  const placement: Record<string, YamlValue> = {
    // Replicas on different nodes first: one node going away takes as few as possible with it.
    preferences: [{ spread: "node.id" }],
  };
  if (o.constraints.length > 0) placement.constraints = o.constraints;
  service.deploy = {
    mode: "replicated",
    replicas: o.replicas,
    endpoint_mode: o.endpointMode,
    labels: { ...objectLabels(o.name, "model"), ...imageAnnotations(facts) },
    update_config: updatePolicy(),
    rollback_config: { parallelism: 1, delay: "0s", order: "start-first" },
    restart_policy: { condition: "any", delay: "2s", window: "30s" },
    placement,
    resources: { reservations, limits: { memory: String(memoryBytes(o.memory)) } },
  };
  return service;
}

function gatewayService(facts: DeployFacts, o: DeployOptions): Record<string, YamlValue> {
  const service: Record<string, YamlValue> = {
    image: gatewayImage(facts, o),
    command: GATEWAY_COMMAND,
    environment: { KILN_REDIS: o.queue ?? "", PORT: String(facts.port) },
    // The gateway writes no readiness file; its /health-check is READY while Redis answers.
    healthcheck: { ...healthcheck(readinessCommand("http")), start_period: "60s" },
    stop_grace_period: `${SHUTDOWN_MARGIN_SECONDS}s`,
    networks: [STACK_NETWORK],
  };
  if (o.endpointMode === "vip")
    service.ports = [{ target: facts.port, published: o.publish, protocol: "tcp", mode: "ingress" }];
  service.deploy = {
    mode: "replicated",
    replicas: 2,
    endpoint_mode: o.endpointMode,
    labels: { ...objectLabels(o.name, "gateway"), ...imageAnnotations(facts) },
    update_config: updatePolicy(),
    rollback_config: { parallelism: 1, delay: "0s", order: "start-first" },
    restart_policy: { condition: "any", delay: "2s", window: "30s" },
    placement: { preferences: [{ spread: "node.id" }] },
    resources: {
      reservations: {
        cpus: swarmCpus(GATEWAY_RESOURCES.cpu),
        memory: String(memoryBytes(GATEWAY_RESOURCES.memory)),
      },
      limits: { memory: String(memoryBytes(GATEWAY_RESOURCES.memory)) },
    },
  };
  return service;
}

function redisService(o: DeployOptions): Record<string, YamlValue> {
  return {
    image: o.redisImage,
    command: REDIS_COMMAND,
    healthcheck: { ...healthcheck(["redis-cli", "ping"]), start_period: "30s" },
    volumes: ["redis-data:/data"],
    networks: [STACK_NETWORK],
    deploy: {
      mode: "replicated",
      replicas: 1,
      // dnsrr: the gateway and replicas reach it by name without a virtual IP, on any engine.
      endpoint_mode: "dnsrr",
      labels: objectLabels(o.name, "redis"),
      // One Redis, stopped before its successor starts: two must never share the volume.
      update_config: { parallelism: 1, order: "stop-first", failure_action: "rollback" },
      restart_policy: { condition: "any", delay: "2s", window: "30s" },
      placement: { constraints: ["node.role==manager"] },
    },
  };
}

export function renderSwarm(facts: DeployFacts, o: DeployOptions): Stack {
  const services: Stack["services"] = { [MODEL_SERVICE]: modelService(facts, o) };
  if (o.queue) services[GATEWAY_SERVICE] = gatewayService(facts, o);
  if (stackRunsRedis(o)) services[REDIS_SERVICE] = redisService(o);
  const stack: Stack = {
    version: "3.8",
    services,
    networks: { [STACK_NETWORK]: { driver: "overlay", attachable: true } },
  };
  if (stackRunsRedis(o)) stack.volumes = { "redis-data": {} };
  return stack;
}
