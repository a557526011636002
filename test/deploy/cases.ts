/**
 * The image facts and options the golden and validation tests render from: a CPU model, a GPU model
 * with concurrency, and the flags that change what is rendered.
 */
import type { ImageLabels } from "../../src/docker/inspect.js";
import { parseReference } from "../../src/docker/reference.js";
import { factsFromImage, type DeployFacts } from "../../src/deploy/facts.js";
import {
  optionsFromFlags,
  type DeployFlags,
  type DeployOptions,
  type DeployTarget,
} from "../../src/deploy/options.js";

export const DIGEST = `sha256:${"ab12".repeat(16)}`;

export function labels(config: unknown, oci: Record<string, string> = {}): ImageLabels {
  return {
    image: "x",
    source: "registry",
    id: undefined,
    digest: DIGEST,
    created: undefined,
    labels: {},
    cog: { version: "0.1.0", config, openapiSchema: undefined },
    oci,
  };
}

export function facts(image: string, config: unknown, oci?: Record<string, string>): DeployFacts {
  return factsFromImage(parseReference(image), labels(config, oci));
}

export const DEFAULT_FLAGS: DeployFlags = {
  replicas: "2",
  redisImage: "redis:7-bookworm",
  readiness: "file",
  cpu: "1",
  memory: "2Gi",
  endpointMode: "vip",
  publish: "5000",
  constraint: [],
};

export function options(
  target: DeployTarget,
  f: DeployFacts,
  flags: Partial<DeployFlags> = {},
): DeployOptions {
  return optionsFromFlags(target, { ...DEFAULT_FLAGS, ...flags }, f.defaultName);
}

export interface GoldenCase {
  name: string;
  target: DeployTarget;
  facts: DeployFacts;
  flags: Partial<DeployFlags>;
}

const cpu = facts(
  `registry.example.com/team/hello-ts@${DIGEST}`,
  { build: { node_version: 20 }, predict: "predict.ts:predictor" },
  {
    source: "https://github.com/example/hello-ts",
    revision: "0123456789abcdef",
  },
);
const gpu = facts(`127.0.0.1:5001/vision/SDXL_turbo@${DIGEST}`.toLowerCase(), {
  build: { gpu: true, python_version: "3.11" },
  predict: "predict.py:Predictor",
  concurrency: { max: 4 },
});

export const GOLDEN_CASES: GoldenCase[] = [
  { name: "cpu-default", target: "kubernetes", facts: cpu, flags: {} },
  { name: "cpu-default", target: "swarm", facts: cpu, flags: {} },
  {
    name: "gpu-hpa-namespace",
    target: "kubernetes",
    facts: gpu,
    flags: {
      replicas: "3",
      namespace: "models",
      autoscaler: "hpa",
      maxReplicas: "6",
      cpu: "4",
      memory: "16Gi",
    },
  },
  {
    name: "gpu-dnsrr-constraints",
    target: "swarm",
    facts: gpu,
    flags: {
      replicas: "3",
      endpointMode: "dnsrr",
      constraint: ["node.labels.gpu==true"],
      cpu: "500m",
      memory: "1.5G",
    },
  },
  { name: "http-readiness", target: "kubernetes", facts: cpu, flags: { readiness: "http", name: "greeter" } },
  {
    name: "http-readiness",
    target: "swarm",
    facts: cpu,
    flags: { readiness: "http", name: "greeter", publish: "8080" },
  },
  {
    name: "queue-keda",
    target: "kubernetes",
    facts: gpu,
    flags: { queue: "redis://redis.infra:6379/2", maxReplicas: "10" },
  },
  {
    name: "queue-keda-password-tls",
    target: "kubernetes",
    facts: cpu,
    flags: { queue: "rediss://kiln:s3cr%40t@redis.example.com:6380", namespace: "models" },
  },
  {
    name: "queue-hpa",
    target: "kubernetes",
    facts: cpu,
    flags: { queue: "redis://redis:6379", autoscaler: "hpa" },
  },
  { name: "queue-stack-redis", target: "swarm", facts: cpu, flags: { queue: "redis://redis:6379" } },
  {
    name: "queue-external-redis-dnsrr",
    target: "swarm",
    facts: gpu,
    flags: {
      queue: "redis://10.0.0.5:6379/1",
      endpointMode: "dnsrr",
      gatewayImage: "registry.example.com/kiln/gateway:1",
    },
  },
];
