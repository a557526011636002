/**
 * The image labels kiln writes and reads, named once. `run.cog.*` are Cog's (kiln and Cog images both
 * carry them, so each tool can run the other's images); `org.opencontainers.image.*` are OCI's.
 */
export const LABELS = {
  /** The kiln (or Cog) version that built the image. */
  version: "run.cog.version",
  /** cog.yaml as JSON. */
  config: "run.cog.config",
  /** The OpenAPI document of the predictor (what `kiln predict IMAGE` checks inputs against). */
  openapiSchema: "run.cog.openapi_schema",
  created: "org.opencontainers.image.created",
  source: "org.opencontainers.image.source",
  revision: "org.opencontainers.image.revision",
} as const;

export const OCI_LABEL_PREFIX = "org.opencontainers.image.";
