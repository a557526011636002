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
import type { YamlValue } from "./yaml.js";

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, YamlValue>;
} & Record<string, YamlValue>;

/** Endpoints controllers need a moment to drop a terminating pod; until then it must keep accepting. */
export const PRE_STOP_SECONDS = 5;
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

function modelContainer(facts: DeployFacts, o: DeployOptions): Record<string, YamlValue> {
  const limits: Record<string, string> = { memory: o.memory };
  if (facts.gpu) limits[GPU_RESOURCE] = "1";
  return {
    name: "model",
    image: facts.image,
    imagePullPolicy: "IfNotPresent",
    ports: [{ name: "http", containerPort: facts.port, protocol: "TCP" }],
    resources: { requests: { cpu: o.cpu, memory: o.memory }, limits },
    readinessProbe: {
      exec: { command: readinessCommand(o.readiness) },
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

export function modelDeployment(facts: DeployFacts, o: DeployOptions): KubeObject {
  const podSpec: Record<string, YamlValue> = {
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + facts.drainSeconds + SHUTDOWN_MARGIN_SECONDS,
    containers: [modelContainer(facts, o)],
  };
  if (facts.gpu) podSpec.tolerations = [{ key: GPU_RESOURCE, operator: "Exists", effect: "NoSchedule" }];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(o, o.name, "model", imageAnnotations(facts)),
    spec: {
      replicas: o.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(o.name, "model") },
      // A new pod is READY before an old one goes: capacity never drops during a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: objectLabels(o.name, "model"), annotations: imageAnnotations(facts) },
        spec: podSpec,
      },
    },
  };
}

export function modelService(facts: DeployFacts, o: DeployOptions): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(o, o.name, "model"),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(o.name, "model"),
      ports: [{ name: "http", port: facts.port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function disruptionBudget(o: DeployOptions, component: Component, name: string): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(o, name, component),
    // One pod at a time may be evicted (node drains), never the whole set.
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(o.name, component) } },
  };
}

export function cpuAutoscaler(o: DeployOptions, target: string, component: Component): KubeObject {
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

/** Every object, in the order kubectl should apply them. */
export function renderKubernetes(facts: DeployFacts, o: DeployOptions): KubeObject[] {
  const objects: KubeObject[] = [
    modelDeployment(facts, o),
    modelService(facts, o),
    disruptionBudget(o, "model", o.name),
  ];
  if (o.autoscaler === "hpa") objects.push(cpuAutoscaler(o, o.name, "model"));
  return objects;
}
