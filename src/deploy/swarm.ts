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
import type { YamlValue } from "./yaml.js";

export const STACK_NETWORK = "kiln";
/** Service names inside the stack (Swarm prefixes them with the stack name: NAME_model). */
export const MODEL_SERVICE = "model";
/** The resource kind nodes advertise with `--node-generic-resource NVIDIA-GPU=<uuid>`. */
export const SWARM_GPU_KIND = "NVIDIA-GPU";

export type Stack = { version: string; services: Record<string, Record<string, YamlValue>> } & Record<
  string,
  YamlValue
>;

function healthcheck(o: DeployOptions): Record<string, YamlValue> {
  return {
    test: ["CMD", ...readinessCommand(o.readiness)],
    interval: "3s",
    timeout: "5s",
    retries: 3,
    start_period: `${SETUP_GRACE_SECONDS}s`,
  };
}

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
    healthcheck: healthcheck(o),
    stop_grace_period: `${facts.drainSeconds + SHUTDOWN_MARGIN_SECONDS}s`,
    networks: [STACK_NETWORK],
  };
  if (o.endpointMode === "vip")
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

export function renderSwarm(facts: DeployFacts, o: DeployOptions): Stack {
  return {
    version: "3.8",
    services: { [MODEL_SERVICE]: modelService(facts, o) },
    networks: { [STACK_NETWORK]: { driver: "overlay", attachable: true } },
  };
}
