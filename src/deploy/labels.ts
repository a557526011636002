/** The labels and annotations both renderers put on what they create. */
import type { DeployFacts } from "./facts.js";

export type Component = "model" | "gateway" | "redis";

/** What selects a component's pods/tasks; stable across image updates (no digest in it). */
export function selectorLabels(name: string, component: Component): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
}

export function objectLabels(name: string, component: Component): Record<string, string> {
  return { ...selectorLabels(name, component), "app.kubernetes.io/managed-by": "kiln" };
}

/** Where the image came from, for people reading the objects later. */
export function imageAnnotations(facts: DeployFacts): Record<string, string> {
  const out: Record<string, string> = { "kiln.dev/image": facts.image };
  if (facts.cogVersion) out["kiln.dev/cog-version"] = facts.cogVersion;
  if (facts.source) out["org.opencontainers.image.source"] = facts.source;
  if (facts.revision) out["org.opencontainers.image.revision"] = facts.revision;
  return out;
}
