/**
 * Names that Kubernetes and Swarm accept: DNS-1123 labels for object names, label values, and the
 * name we derive from an image reference when the user gives none.
 */
import { UsageError } from "../errors.js";

/** RFC 1123 label: what Service, Deployment and stack service names must be. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Label values: empty, or up to 63 of [A-Za-z0-9-_.] starting and ending alphanumeric. */
export const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** The last path component of a repository, made into a DNS label ("team/My_Model" -> "my-model"). */
export function nameFromRepository(repository: string): string {
  const last = repository.split("/").pop() ?? "";
  const name = last
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return name === "" ? "model" : name;
}

/** Throws a UsageError unless `name` can name every object we derive from it (name-gateway, ...). */
export function checkName(name: string, flag: string): string {
  if (!DNS_LABEL.test(name) || name.length > 40) {
    throw new UsageError(
      `${flag} "${name}" is not a valid name.`,
      "Use at most 40 lowercase letters, digits and '-', starting and ending with a letter or digit (kiln appends suffixes such as -gateway).",
    );
  }
  return name;
}
