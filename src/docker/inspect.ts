/**
 * What an image holds, from its labels: the Cog/kiln version, the manifest (run.cog.config), the
 * OpenAPI schema (run.cog.openapi_schema) and OCI annotations (source, revision, created). Read from
 * the local engine, or from a registry (manifest + config blob only: no layer is pulled).
 */
import { RegistryError } from "../errors.js";
import { getCredentials } from "./credentials.js";
import { EngineApiError, type ImageInspect } from "./api.js";
import { engineClient } from "./engine.js";
import { LABELS, OCI_LABEL_PREFIX } from "./labels.js";
import { RegistryClient } from "./registry.js";
import { repositoryName, type ImageReference } from "./reference.js";

export interface ImageLabels {
  image: string;
  source: "local" | "registry";
  /** Local image id (sha256:...) when read locally. */
  id: string | undefined;
  /** Registry manifest digest (name@digest pins it) when known. */
  digest: string | undefined;
  created: string | undefined;
  labels: Record<string, string>;
  cog: {
    version: string | undefined;
    /** run.cog.config parsed; undefined when absent, the raw string when not JSON. */
    config: unknown;
    openapiSchema: unknown;
  };
  oci: Record<string, string>;
}

function parseJsonLabel(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** Pure: the interesting parts of a label set. */
export function describeLabels(labels: Record<string, string>): Pick<ImageLabels, "cog" | "oci"> {
  const oci: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(OCI_LABEL_PREFIX)) oci[k.slice(OCI_LABEL_PREFIX.length)] = v;
  }
  return {
    cog: {
      version: labels[LABELS.version],
      config: parseJsonLabel(labels[LABELS.config]),
      openapiSchema: parseJsonLabel(labels[LABELS.openapiSchema]),
    },
    oci,
  };
}

/** Labels of a local image, or undefined when the engine does not have it. */
async function inspectLocal(ref: ImageReference): Promise<ImageLabels | undefined> {
  const name = ref.digest
    ? `${repositoryName(ref)}@${ref.digest}`
    : `${repositoryName(ref)}:${ref.tag ?? "latest"}`;
  let info: ImageInspect;
  try {
    info = await engineClient().inspectImage(name);
  } catch (err) {
    if (err instanceof EngineApiError && err.statusCode === 404) return undefined;
    throw err;
  }
  const labels = info.Config?.Labels ?? {};
  const repo = repositoryName(ref);
  const digest = ref.digest ?? info.RepoDigests?.find((d) => d.startsWith(`${repo}@`))?.split("@")[1];
  return {
    image: name,
    source: "local",
    id: info.Id,
    digest,
    created: info.Created,
    labels,
    ...describeLabels(labels),
  };
}

/** Labels of an image in its registry, reading only the manifest and the config blob. */
export async function inspectRemote(
  ref: ImageReference,
  options: { ca?: Buffer | undefined } = {},
): Promise<ImageLabels> {
  const credentials = await getCredentials(ref.registry);
  const client = new RegistryClient(ref.registry, { credentials, ca: options.ca });
  const reference = ref.digest ?? ref.tag ?? "latest";
  const remote = await client.image(ref.repository, reference);
  const labels = remote.config.config?.Labels ?? {};
  const image = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : `${repositoryName(ref)}:${reference}`;
  if (typeof labels !== "object")
    throw new RegistryError(`The image config of ${image} has malformed labels.`);
  return {
    image,
    source: "registry",
    id: undefined,
    digest: remote.digest,
    created: remote.config.created,
    labels,
    ...describeLabels(labels),
  };
}

export interface InspectImageOptions {
  /** Read from the registry even when the local engine has the image. */
  remote?: boolean | undefined;
  ca?: Buffer | undefined;
  /**
   * Called when the local engine cannot be asked (not running, say) and the registry is asked
   * instead; without it that failure is thrown (`kiln inspect` reports the missing engine).
   */
  onLocalFailure?: ((err: unknown) => void) | undefined;
}

/** The local image first (unless `remote`), else its registry. */
export async function inspectImage(
  ref: ImageReference,
  options: InspectImageOptions = {},
): Promise<ImageLabels> {
  let local: ImageLabels | undefined;
  if (!options.remote) {
    try {
      local = await inspectLocal(ref);
    } catch (err) {
      if (!options.onLocalFailure) throw err;
      options.onLocalFailure(err);
    }
  }
  return local ?? (await inspectRemote(ref, { ca: options.ca }));
}
