/**
 * Offline checks of Kubernetes objects, in two layers:
 *   1. kubernetes-models (the API's OpenAPI schemas): types, required fields, enums;
 *   2. ours, for what those schemas let through and an API server would reject or silently ignore:
 *      unknown fields, invalid names and label values, selectors that select no pod template, ports
 *      out of range or named ports no container declares, targets (HPA, ScaledObject) that are absent.
 * The only module that uses kubernetes-models.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { Secret, Service } from "kubernetes-models/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { KUBE_TYPES, LEAF, MAP } from "./kube-fields.js";
import { DNS_LABEL, LABEL_VALUE } from "./names.js";

export interface KubeProblem {
  /** Kind/name of the object, e.g. "Deployment/hello". */
  object: string;
  /** JSON-pointer-like path inside it, e.g. "spec.template.spec.containers[0].ports[0]". */
  path: string;
  message: string;
}

type Obj = Record<string, unknown>;
interface Model {
  validate(): void;
}
const MODELS: Record<string, { apiVersion: string; make: (o: Obj) => Model }> = {
  Deployment: { apiVersion: "apps/v1", make: (o) => new Deployment(o as never) },
  Service: { apiVersion: "v1", make: (o) => new Service(o as never) },
  PodDisruptionBudget: { apiVersion: "policy/v1", make: (o) => new PodDisruptionBudget(o as never) },
  HorizontalPodAutoscaler: {
    apiVersion: "autoscaling/v2",
    make: (o) => new HorizontalPodAutoscaler(o as never),
  },
  ScaledObject: { apiVersion: "keda.sh/v1alpha1", make: (o) => new ScaledObject(o as never) },
  TriggerAuthentication: {
    apiVersion: "keda.sh/v1alpha1",
    make: (o) => new TriggerAuthentication(o as never),
  },
  Secret: { apiVersion: "v1", make: (o) => new Secret(o as never) },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
// IANA service names (port names): <= 15 chars, lowercase alphanumerics and '-', one letter at least.
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const get = (o: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((cur, k) => (isObj(cur) ? cur[k] : undefined), o);

class Collector {
  readonly problems: KubeProblem[] = [];
  constructor(private object = "") {}
  at(object: string): this {
    this.object = object;
    return this;
  }
  add(path: string, message: string): void {
    this.problems.push({ object: this.object, path, message });
  }
}

function checkFields(value: unknown, type: string, path: string, c: Collector): void {
  const fields = KUBE_TYPES[type];
  if (!fields) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkFields(item, type, `${path}[${i}]`, c));
    return;
  }
  if (!isObj(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const where = path === "" ? key : `${path}.${key}`;
    const childType = fields[key];
    if (childType === undefined) {
      c.add(where, `unknown field "${key}" (the API server would drop it)`);
    } else if (childType === MAP) {
      if (!isObj(child)) c.add(where, "must be a map of strings");
      else
        for (const [k, v] of Object.entries(child))
          if (typeof v !== "string" && !(key === "limits" || key === "requests" || key === "overhead"))
            c.add(`${where}.${k}`, "must be a string");
    } else if (childType !== LEAF) {
      checkFields(child, childType, where, c);
    }
  }
}

function checkLabels(labels: unknown, path: string, c: Collector): void {
  if (!isObj(labels)) return;
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (
      !LABEL_KEY_NAME.test(name) ||
      (prefix !== undefined && (!DNS_SUBDOMAIN.test(prefix) || prefix.length > 253))
    )
      c.add(`${path}.${key}`, `"${key}" is not a valid label key`);
    if (typeof value === "string" && !LABEL_VALUE.test(value))
      c.add(`${path}.${key}`, `"${value}" is not a valid label value (<= 63 of A-Z a-z 0-9 - _ .)`);
  }
}

function checkMetadata(o: Obj, c: Collector): void {
  const name = get(o, "metadata", "name");
  const kind = String(o.kind);
  if (typeof name !== "string" || name === "") {
    c.add("metadata.name", "is required");
  } else if (
    kind === "Service"
      ? !DNS_1035.test(name) || name.length > 63
      : !DNS_SUBDOMAIN.test(name) || name.length > 253
  ) {
    c.add(
      "metadata.name",
      kind === "Service"
        ? `"${name}" is not a valid Service name (RFC 1035 label: lowercase letter first, then letters, digits, '-'; <= 63)`
        : `"${name}" is not a valid object name (lowercase RFC 1123 subdomain)`,
    );
  }
  const ns = get(o, "metadata", "namespace");
  if (ns !== undefined && (typeof ns !== "string" || !DNS_LABEL.test(ns) || ns.length > 63))
    c.add("metadata.namespace", `"${String(ns)}" is not a valid namespace`);
  checkLabels(get(o, "metadata", "labels"), "metadata.labels", c);
}

function inRange(port: unknown): boolean {
  return typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** Named ports of a pod template's containers, with the container index that declares them. */
function podPorts(template: unknown): Map<string, number> {
  const names = new Map<string, number>();
  for (const container of asArray(get(template, "spec", "containers")))
    for (const p of asArray(get(container, "ports")))
      if (isObj(p) && typeof p.name === "string" && inRange(p.containerPort))
        names.set(p.name, p.containerPort as number);
  return names;
}

function checkPortRef(port: unknown, named: Map<string, number>, path: string, c: Collector): void {
  if (typeof port === "string") {
    if (!named.has(port)) c.add(path, `names port "${port}", which no container declares`);
  } else if (!inRange(port)) {
    c.add(path, `port ${String(port)} is out of range (1-65535)`);
  }
}

function checkPodTemplate(d: Obj, c: Collector): void {
  const template = get(d, "spec", "template");
  const podLabels = get(template, "metadata", "labels");
  checkLabels(podLabels, "spec.template.metadata.labels", c);
  const match = get(d, "spec", "selector", "matchLabels");
  if (!selects(match, podLabels))
    c.add(
      "spec.selector.matchLabels",
      "does not match the pod template's labels (the API server rejects this)",
    );
  const named = podPorts(template);
  const seen = new Set<string>();
  asArray(get(template, "spec", "containers")).forEach((container, i) => {
    const at = `spec.template.spec.containers[${i}]`;
    const name = get(container, "name");
    if (typeof name !== "string" || !DNS_LABEL.test(name) || name.length > 63)
      c.add(`${at}.name`, `"${String(name)}" is not a valid container name (RFC 1123 label)`);
    else if (seen.has(name)) c.add(`${at}.name`, `container name "${name}" is used twice`);
    else seen.add(name);
    asArray(get(container, "ports")).forEach((p, j) => {
      if (!inRange(get(p, "containerPort")))
        c.add(
          `${at}.ports[${j}].containerPort`,
          `${String(get(p, "containerPort"))} is out of range (1-65535)`,
        );
      const pn = get(p, "name");
      if (pn !== undefined && (typeof pn !== "string" || !PORT_NAME.test(pn)))
        c.add(
          `${at}.ports[${j}].name`,
          `"${String(pn)}" is not a valid port name (<= 15 lowercase letters, digits, '-')`,
        );
    });
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      for (const action of ["httpGet", "tcpSocket", "grpc"]) {
        const port = get(container, probe, action, "port");
        if (port !== undefined) checkPortRef(port, named, `${at}.${probe}.${action}.port`, c);
      }
    }
  });
}

/** A selector selects a pod template when each of its labels is on the template with the same value. */
function selects(selector: unknown, labels: unknown): boolean {
  if (!isObj(selector) || Object.keys(selector).length === 0 || !isObj(labels)) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function namespaceOf(o: Obj): string {
  const ns = get(o, "metadata", "namespace");
  return typeof ns === "string" ? ns : "";
}

function checkReferences(objects: Obj[], c: Collector): void {
  const deployments = objects.filter((o) => o.kind === "Deployment");
  const templatesIn = (o: Obj) => deployments.filter((d) => namespaceOf(d) === namespaceOf(o));
  for (const o of objects) {
    c.at(`${String(o.kind)}/${String(get(o, "metadata", "name"))}`);
    if (o.kind === "Service") {
      const selector = get(o, "spec", "selector");
      const targets = templatesIn(o).filter((d) =>
        selects(selector, get(d, "spec", "template", "metadata", "labels")),
      );
      if (targets.length === 0)
        c.add(
          "spec.selector",
          "selects no pod template of these objects: the Service would have no endpoints",
        );
      asArray(get(o, "spec", "ports")).forEach((p, i) => {
        if (!inRange(get(p, "port")))
          c.add(`spec.ports[${i}].port`, `${String(get(p, "port"))} is out of range (1-65535)`);
        const target = get(p, "targetPort");
        if (target !== undefined) {
          const named = new Map<string, number>();
          for (const d of targets) for (const [k, v] of podPorts(get(d, "spec", "template"))) named.set(k, v);
          checkPortRef(target, named, `spec.ports[${i}].targetPort`, c);
        }
      });
    }
    if (o.kind === "PodDisruptionBudget") {
      const selector = get(o, "spec", "selector", "matchLabels");
      if (!templatesIn(o).some((d) => selects(selector, get(d, "spec", "template", "metadata", "labels"))))
        c.add("spec.selector", "selects no pod template of these objects: the budget protects nothing");
    }
    if (o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject") {
      const ref = get(o, "spec", "scaleTargetRef");
      const kind = get(ref, "kind") ?? "Deployment";
      const name = get(ref, "name");
      if (kind !== "Deployment" || !templatesIn(o).some((d) => get(d, "metadata", "name") === name))
        c.add(
          "spec.scaleTargetRef",
          `scales ${String(kind)}/${String(name)}, which is not among these objects`,
        );
      asArray(get(o, "spec", "triggers")).forEach((t, i) => {
        const auth = get(t, "authenticationRef", "name");
        const present = objects.some(
          (x) =>
            x.kind === "TriggerAuthentication" &&
            get(x, "metadata", "name") === auth &&
            namespaceOf(x) === namespaceOf(o),
        );
        if (auth !== undefined && !present)
          c.add(
            `spec.triggers[${i}].authenticationRef`,
            `names TriggerAuthentication/${String(auth)}, which is not among these objects`,
          );
      });
    }
  }
}

/** Every problem found in `objects` (one document each); empty when they are fine. */
export function validateKubernetes(objects: readonly unknown[]): KubeProblem[] {
  const c = new Collector();
  const valid: Obj[] = [];
  objects.forEach((raw, i) => {
    if (!isObj(raw)) {
      c.at(`document ${i + 1}`).add("", "is not an object");
      return;
    }
    const kind = typeof raw.kind === "string" ? raw.kind : "";
    c.at(`${kind || "?"}/${String(get(raw, "metadata", "name") ?? `document ${i + 1}`)}`);
    const model = MODELS[kind];
    if (!model) {
      c.add("kind", `kiln does not check kind "${kind}"`);
      return;
    }
    if (raw.apiVersion !== model.apiVersion) {
      c.add("apiVersion", `${kind} is served as ${model.apiVersion}, not ${String(raw.apiVersion)}`);
    } else {
      try {
        model.make(raw).validate();
      } catch (err) {
        for (const part of (err as Error).message.split(", ")) {
          // ajv: "data/spec/replicas must be integer" -> path "spec.replicas", message "must be integer"
          const m = /^data(\S*) (.*)$/.exec(part);
          c.add(
            m
              ? (m[1] ?? "")
                  .slice(1)
                  .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
                  .replace(/\//g, ".")
              : "",
            m ? (m[2] ?? part) : part,
          );
        }
      }
    }
    checkFields(raw, kind, "", c);
    checkMetadata(raw, c);
    if (kind === "Deployment") checkPodTemplate(raw, c);
    valid.push(raw);
  });
  checkReferences(valid, c);
  return c.problems;
}

export function formatKubeProblem(p: KubeProblem): string {
  return `${p.object}${p.path ? ` ${p.path}` : ""}: ${p.message}`;
}
