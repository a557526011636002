/**
 * Reads what `kiln predict IMAGE` needs from an image without starting it: the OpenAPI document from
 * the `run.cog.openapi_schema` label (kiln and Cog images both carry it), the manifest from
 * `run.cog.config` (for build.gpu), and the default command.
 */
import { EngineApiError, type EngineApi, type ImageInspect } from "./api.js";
import { RegistryError, UsageError } from "../errors.js";
import { engineAuth, getCredentials } from "./credentials.js";
import { parseReference } from "./reference.js";
import { LABELS } from "./labels.js";

const SCHEMA_LABEL = LABELS.openapiSchema;
const CONFIG_LABEL = LABELS.config;

export interface ModelImage {
  /** As the user wrote it. */
  ref: string;
  /** sha256:... image id. */
  id: string;
  openapi: unknown;
  /** The manifest stored at build time, if any. */
  config: Record<string, unknown> | undefined;
  gpu: boolean;
  cmd: string[] | undefined;
  labels: Record<string, string>;
}

export async function inspectModelImage(docker: EngineApi, ref: string): Promise<ModelImage> {
  let info: ImageInspect;
  try {
    info = await docker.inspectImage(ref);
  } catch (err) {
    if (!(err instanceof EngineApiError) || err.statusCode !== 404) throw err;
    await pull(docker, ref);
    info = await docker.inspectImage(ref);
  }
  const labels = info.Config.Labels ?? {};
  const schemaText = labels[SCHEMA_LABEL];
  if (!schemaText) {
    throw new UsageError(
      `${ref} is not a kiln or Cog model image: it has no ${SCHEMA_LABEL} label`,
      "Build one with `kiln build` (or `cog build`).",
    );
  }
  let openapi: unknown;
  try {
    openapi = JSON.parse(schemaText);
  } catch (err) {
    throw new UsageError(`${ref} has an unreadable ${SCHEMA_LABEL} label: ${(err as Error).message}`);
  }
  const config = parseObject(labels[CONFIG_LABEL]);
  const build = config?.["build"];
  const gpu =
    typeof build === "object" && build !== null && (build as Record<string, unknown>)["gpu"] === true;
  return { ref, id: info.Id, openapi, config, gpu, cmd: info.Config.Cmd ?? undefined, labels };
}

/** The stored credentials (config.json, credential helpers) for `ref`'s registry, as push uses them. */
async function pullAuth(ref: string): Promise<ReturnType<typeof engineAuth>> {
  let registry: string;
  try {
    registry = parseReference(ref).registry;
  } catch {
    return {}; // not a registry reference (e.g. an image id): nothing to log in to
  }
  return engineAuth(registry, await getCredentials(registry));
}

async function pull(docker: EngineApi, ref: string): Promise<void> {
  const auth = await pullAuth(ref);
  try {
    await docker.pullImage(ref, auth);
  } catch (err) {
    // No engine is exit 4; everything else is the registry's answer (exit 6).
    if (!(err instanceof EngineApiError)) throw err;
    throw new RegistryError(
      `image ${ref} is not on this machine and could not be pulled: ${err.engineMessage}`,
      {
        hint: "Check the name (`docker images`), build it with `kiln build -t NAME`, or log in with `kiln login`.",
        cause: err,
      },
    );
  }
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
