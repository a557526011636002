/**
 * The offline Kubernetes checks: each broken variant of a rendered set is caught with a message that
 * names the object and the field (the kubernetes-models layer and kiln's own layer).
 */
import { describe, expect, it } from "vitest";
import { renderKubernetes } from "../../src/deploy/kubernetes.js";
import { formatKubeProblem, validateKubernetes } from "../../src/deploy/validate-kubernetes.js";
import { DIGEST, facts, options } from "./cases.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rendered(): Json[] {
  const f = facts(`registry.example.com/team/hello@${DIGEST}`, { build: { gpu: true } });
  return structuredClone(renderKubernetes(f, options("kubernetes", f, { autoscaler: "hpa" }))) as Json[];
}

function problems(mutate: (objects: Json[]) => void): string[] {
  const objects = rendered();
  mutate(objects);
  return validateKubernetes(objects).map(formatKubeProblem);
}

const container = (o: Json[]): Json => o[0]!.spec.template.spec.containers[0];

describe("validateKubernetes", () => {
  it("accepts what kiln renders", () => {
    expect(problems(() => {})).toEqual([]);
  });

  it("reports wrong types and missing required fields (kubernetes-models)", () => {
    expect(problems((o) => (container(o).ports[0].containerPort = "5000"))).toContain(
      "Deployment/hello spec.template.spec.containers[0].ports[0].containerPort: must be integer",
    );
    expect(problems((o) => delete o[0]!.spec.selector)).toEqual(
      expect.arrayContaining(["Deployment/hello spec: must have required property selector"]),
    );
  });

  it("reports unknown fields anywhere, which the API server would drop", () => {
    expect(
      problems((o) => {
        container(o).readinesProbe = container(o).readinessProbe;
        o[1]!.spec.ports[0].targetport = 5000;
        o[0]!.spec.template.spec.terminationGracePeriod = 30;
      }),
    ).toEqual([
      'Deployment/hello spec.template.spec.containers[0].readinesProbe: unknown field "readinesProbe" (the API server would drop it)',
      'Deployment/hello spec.template.spec.terminationGracePeriod: unknown field "terminationGracePeriod" (the API server would drop it)',
      'Service/hello spec.ports[0].targetport: unknown field "targetport" (the API server would drop it)',
    ]);
  });

  it("reports bad names, label values and namespaces", () => {
    const found = problems((o) => {
      o[0]!.metadata.name = "Hello_World";
      o[1]!.metadata.name = "1hello"; // a Service name must start with a letter
      o[2]!.metadata.namespace = "Models";
      container(o).name = "model.v1";
      container(o).ports[0].name = "http-port-too-long-name";
      o[0]!.metadata.labels["app.kubernetes.io/version"] = "not ok!";
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'Deployment/Hello_World metadata.name: "Hello_World" is not a valid object name (lowercase RFC 1123 subdomain)',
        expect.stringContaining('Service/1hello metadata.name: "1hello" is not a valid Service name'),
        'PodDisruptionBudget/hello metadata.namespace: "Models" is not a valid namespace',
        'Deployment/Hello_World spec.template.spec.containers[0].name: "model.v1" is not a valid container name (RFC 1123 label)',
        expect.stringContaining(
          'containers[0].ports[0].name: "http-port-too-long-name" is not a valid port name',
        ),
        expect.stringContaining(
          'metadata.labels.app.kubernetes.io/version: "not ok!" is not a valid label value',
        ),
      ]),
    );
  });

  it("reports selectors that match no pod template", () => {
    const found = problems((o) => {
      o[0]!.spec.selector.matchLabels["app.kubernetes.io/component"] = "gateway";
      o[1]!.spec.selector = { app: "hello" };
      o[2]!.spec.selector.matchLabels = { app: "nothing" };
    });
    expect(found).toEqual([
      "Deployment/hello spec.selector.matchLabels: does not match the pod template's labels (the API server rejects this)",
      "Service/hello spec.selector: selects no pod template of these objects: the Service would have no endpoints",
      'Service/hello spec.ports[0].targetPort: names port "http", which no container declares',
      "PodDisruptionBudget/hello spec.selector: selects no pod template of these objects: the budget protects nothing",
    ]);
  });

  it("reports out-of-range ports and named ports nobody declares", () => {
    const found = problems((o) => {
      container(o).ports[0].containerPort = 70000;
      o[1]!.spec.ports[0].port = 0;
      container(o).livenessProbe.httpGet.port = "metrics";
    });
    expect(found).toEqual(
      expect.arrayContaining([
        "Deployment/hello spec.template.spec.containers[0].ports[0].containerPort: 70000 is out of range (1-65535)",
        'Deployment/hello spec.template.spec.containers[0].livenessProbe.httpGet.port: names port "metrics", which no container declares',
        "Service/hello spec.ports[0].port: 0 is out of range (1-65535)",
        // The only named port went out of range, so the Service's targetPort names nothing valid.
        'Service/hello spec.ports[0].targetPort: names port "http", which no container declares',
      ]),
    );
  });

  it("reports autoscalers whose target is not among the objects, wrong apiVersions and unknown kinds", () => {
    const found = problems((o) => {
      o[3]!.spec.scaleTargetRef.name = "other";
      o[2]!.apiVersion = "policy/v1beta1";
      o.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    });
    expect(found).toEqual([
      "PodDisruptionBudget/hello apiVersion: PodDisruptionBudget is served as policy/v1, not policy/v1beta1",
      'ConfigMap/x kind: kiln does not check kind "ConfigMap"',
      "HorizontalPodAutoscaler/hello spec.scaleTargetRef: scales Deployment/other, which is not among these objects",
    ]);
  });

  it("checks the queue objects too: Secret, KEDA ScaledObject and its TriggerAuthentication", () => {
    const f = facts(`registry.example.com/team/hello@${DIGEST}`, {});
    const objects = structuredClone(
      renderKubernetes(f, options("kubernetes", f, { queue: "redis://:pw@redis:6379" })),
    ) as Json[];
    expect(objects.map((o) => o.kind)).toEqual([
      "Secret",
      "Deployment",
      "PodDisruptionBudget",
      "Deployment",
      "Service",
      "PodDisruptionBudget",
      "TriggerAuthentication",
      "ScaledObject",
    ]);
    expect(validateKubernetes(objects)).toEqual([]);
    objects.splice(6, 1);
    objects[6]!.spec.triggers[0].metadat = {};
    objects[0]!.stringdata = {};
    expect(validateKubernetes(objects).map(formatKubeProblem)).toEqual([
      'Secret/hello-queue stringdata: unknown field "stringdata" (the API server would drop it)',
      'ScaledObject/hello spec.triggers[0].metadat: unknown field "metadat" (the API server would drop it)',
      "ScaledObject/hello spec.triggers[0].authenticationRef: names TriggerAuthentication/hello-queue, which is not among these objects",
    ]);
  });
});
