/**
 * DeployFacts + DeployOptions -> Kubernetes objects (pure; golden-tested, then checked by
 * validate-kubernetes.ts). The model Deployment is sized by --cpu/--memory (and nvidia.com/gpu when the
 * image needs a GPU), rolls out surge-first, gets the drain time as its grace period, is ready when the
 * server is READY and is kept running through voluntary disruptions by a PodDisruptionBudget.
 */
import type { DeployFacts } from "./facts.js";
import { SHUTDOWN_MARGIN_SECONDS } from "./facts.js";
import { imageAnnotations, objectLabels, selectorLabels, type Component } from "./labels.js";
import type { DeployOptions } from "./options.js";
import { readinessCommand } from "./probes.js";
import {
  CONSUMER_GROUP,
  GATEWAY_COMMAND,
  GATEWAY_RESOURCES,
  gatewayImage,
  redisTarget,
  replicaEnv,
  streamKey,
} from "./queue.js";
import type { YamlValue } from "./yaml.js";

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, YamlValue>;
} & Record<string, YamlValue>;

/** Endpoints controllers need a moment to drop a terminating pod; until then it must keep accepting. */
const PRE_STOP_SECONDS = 5;
const GPU_RESOURCE = "nvidia.com/gpu";

function metadata(
  o: DeployOptions,
  name: string,
  component: Component,
  annotations?: Record<string, string>,
) {
  return {
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    labels: objectLabels(o.name, component),
    ...(annotations ? { annotations } : {}),
  };
}

/** The Secret holding the queue URL (and the Redis password, for KEDA), named NAME-queue. */
const queueSecretName = (o: DeployOptions) => `${o.name}-queue`;
const gatewayName = (o: DeployOptions) => `${o.name}-gateway`;

function secretEnv(name: string, o: DeployOptions): Record<string, YamlValue> {
  return { name, valueFrom: { secretKeyRef: { name: queueSecretName(o), key: "url" } } };
}

function plainEnv(vars: Record<string, string>): Record<string, YamlValue>[] {
  return Object.entries(vars).map(([name, value]) => ({ name, value }));
}

interface ContainerSpec {
  name: string;
  image: string;
  args?: string[];
  env: Record<string, YamlValue>[];
  cpu: string;
  memory: string;
  gpu: boolean;
  port: number;
  ready: string[];
}

function container(c: ContainerSpec): Record<string, YamlValue> {
  const limits: Record<string, string> = { memory: c.memory };
  if (c.gpu) limits[GPU_RESOURCE] = "1";
  return {
    name: c.name,
    image: c.image,
    imagePullPolicy: "IfNotPresent",
    ...(c.args ? { args: c.args } : {}),
    ...(c.env.length > 0 ? { env: c.env } : {}),
    ports: [{ name: "http", containerPort: c.port, protocol: "TCP" }],
    resources: { requests: { cpu: c.cpu, memory: c.memory }, limits },
    readinessProbe: {
      exec: { command: c.ready },
      periodSeconds: 2,
      timeoutSeconds: 5,
      failureThreshold: 2,
    },
    livenessProbe: {
      httpGet: { path: "/health-check", port: "http" },
      // Setup can take minutes; the HTTP server answers from the start, so liveness can run at once.
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 6,
    },
    lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SECONDS)] } } },
  };
}

function deployment(
  o: DeployOptions,
  name: string,
  component: Component,
  replicas: number,
  podSpec: Record<string, YamlValue>,
  annotations: Record<string, string>,
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(o, name, component, annotations),
    spec: {
      replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(o.name, component) },
      // A new pod is READY before an old one goes: capacity never drops during a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: objectLabels(o.name, component), annotations },
        spec: podSpec,
      },
    },
  };
}

function modelDeployment(facts: DeployFacts, o: DeployOptions): KubeObject {
  const env = o.queue ? [secretEnv("KILN_QUEUE", o), ...plainEnv(replicaEnv(facts))] : [];
  const podSpec: Record<string, YamlValue> = {
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + facts.drainSeconds + SHUTDOWN_MARGIN_SECONDS,
    containers: [
      container({
        name: "model",
        image: facts.image,
        env,
        cpu: o.cpu,
        memory: o.memory,
        gpu: facts.gpu,
        port: facts.port,
        ready: readinessCommand(o.readiness),
      }),
    ],
  };
  if (facts.gpu) podSpec.tolerations = [{ key: GPU_RESOURCE, operator: "Exists", effect: "NoSchedule" }];
  return deployment(o, o.name, "model", o.replicas, podSpec, imageAnnotations(facts));
}

function service(o: DeployOptions, name: string, component: Component, port: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(o, name, component),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(o.name, component),
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

function modelService(facts: DeployFacts, o: DeployOptions): KubeObject {
  return service(o, o.name, "model", facts.port);
}

function disruptionBudget(o: DeployOptions, component: Component, name: string): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(o, name, component),
    // One pod at a time may be evicted (node drains), never the whole set.
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(o.name, component) } },
  };
}

function cpuAutoscaler(o: DeployOptions, target: string, component: Component): KubeObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadata(o, target, component),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      minReplicas: o.replicas,
      maxReplicas: o.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ],
    },
  };
}

/** The queue URL (and password) out of the manifests' plain text: pods and KEDA read it from here. */
function queueSecret(o: DeployOptions): KubeObject {
  const redis = redisTarget(o.queue ?? "");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadata(o, queueSecretName(o), "model"),
    type: "Opaque",
    stringData: { url: o.queue ?? "", ...(redis.password !== undefined ? { password: redis.password } : {}) },
  };
}

/** The gateway: /v1 with no model, state in Redis; the image's own /kiln/gateway.mjs. */
function gatewayDeployment(facts: DeployFacts, o: DeployOptions): KubeObject {
  const podSpec: Record<string, YamlValue> = {
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + SHUTDOWN_MARGIN_SECONDS,
    containers: [
      container({
        name: "gateway",
        image: gatewayImage(facts, o),
        args: GATEWAY_COMMAND,
        env: [secretEnv("KILN_REDIS", o), ...plainEnv({ PORT: String(facts.port) })],
        ...GATEWAY_RESOURCES,
        gpu: false,
        port: facts.port,
        // The gateway writes no readiness file; its /health-check is READY while Redis answers.
        ready: readinessCommand("http"),
      }),
    ],
  };
  return deployment(o, gatewayName(o), "gateway", 2, podSpec, imageAnnotations(facts));
}

/** KEDA: replicas follow the consumer group's lag (entries not yet handed to any replica). */
function queueScaler(facts: DeployFacts, o: DeployOptions): KubeObject[] {
  const redis = redisTarget(o.queue ?? "");
  const auth = redis.password !== undefined;
  const metadataFields: Record<string, string> = {
    address: `${redis.host}:${redis.port}`,
    stream: streamKey(facts),
    consumerGroup: CONSUMER_GROUP,
    // One replica per `concurrency` waiting predictions; none waiting and min replicas stay.
    lagCount: String(facts.concurrency),
    activationLagCount: "0",
    databaseIndex: String(redis.db),
    enableTLS: redis.tls ? "true" : "false",
  };
  if (redis.username !== undefined) metadataFields.username = redis.username;
  const scaled: KubeObject = {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: metadata(o, o.name, "model"),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: o.name },
      minReplicaCount: o.replicas,
      maxReplicaCount: o.maxReplicas,
      pollingInterval: 10,
      cooldownPeriod: 300,
      triggers: [
        {
          type: "redis-streams",
          metadata: metadataFields,
          ...(auth ? { authenticationRef: { name: queueSecretName(o) } } : {}),
        },
      ],
    },
  };
  if (!auth) return [scaled];
  const triggerAuth: KubeObject = {
    apiVersion: "keda.sh/v1alpha1",
    kind: "TriggerAuthentication",
    metadata: metadata(o, queueSecretName(o), "model"),
    spec: { secretTargetRef: [{ parameter: "password", name: queueSecretName(o), key: "password" }] },
  };
  return [triggerAuth, scaled];
}

/** Every object, in the order kubectl should apply them. */
export function renderKubernetes(facts: DeployFacts, o: DeployOptions): KubeObject[] {
  if (!o.queue) {
    const objects = [modelDeployment(facts, o), modelService(facts, o), disruptionBudget(o, "model", o.name)];
    if (o.autoscaler === "hpa") objects.push(cpuAutoscaler(o, o.name, "model"));
    return objects;
  }
  const objects = [
    queueSecret(o),
    modelDeployment(facts, o),
    disruptionBudget(o, "model", o.name),
    gatewayDeployment(facts, o),
    service(o, gatewayName(o), "gateway", facts.port),
    disruptionBudget(o, "gateway", gatewayName(o)),
  ];
  if (o.autoscaler === "keda") objects.push(...queueScaler(facts, o));
  if (o.autoscaler === "hpa") objects.push(cpuAutoscaler(o, o.name, "model"));
  return objects;
}
