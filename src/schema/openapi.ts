/**
 * PredictorSchema -> the model's OpenAPI 3.0.2 document, in the shape Cog containers serve at
 * /openapi.json (and store in the `run.cog.openapi_schema` image label). The envelope is the same for
 * every model; only Input/Output (and their enum components) come from the predictor.
 */
import { canonicalize } from "./fragments.js";
import type { JsonSchema, PredictorSchema } from "./types.js";

export interface OpenApiDocument {
  openapi: "3.0.2";
  info: { title: "Cog"; version: string };
  paths: Record<string, Record<string, JsonSchema>>;
  components: { schemas: Record<string, JsonSchema> };
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema): JsonSchema => ({ "application/json": { schema } });
const ok = (schema: JsonSchema): JsonSchema => ({
  description: "Successful Response",
  content: json(schema),
});
const VALIDATION_ERROR_RESPONSE = {
  description: "Validation Error",
  content: json(ref("HTTPValidationError")),
};
const PREFER_HEADER = {
  name: "prefer",
  in: "header",
  required: false,
  schema: { title: "Prefer", type: "string" },
};
const nullableString = (title: string, extra: JsonSchema = {}): JsonSchema => ({
  title,
  type: "string",
  ...extra,
  nullable: true,
});
const dateTime = (title: string): JsonSchema => nullableString(title, { format: "date-time" });

/** The operationId FastAPI would derive, e.g. "predict_predictions_post". */
function operationId(name: string, path: string, method: string): string {
  return `${name}${path.replace(/[^a-zA-Z0-9]/g, "_")}_${method}`;
}

function simpleGet(summary: string, name: string, path: string, responseTitle: string): JsonSchema {
  return {
    summary,
    operationId: operationId(name, path, "get"),
    responses: { "200": ok({ title: responseTitle }) },
  };
}

/** Paths and request/response components for one entry point ("prediction" or "training"). */
function entryPoint(kind: "prediction" | "training"): {
  paths: Record<string, Record<string, JsonSchema>>;
  schemas: Record<string, JsonSchema>;
} {
  const plural = `${kind}s`;
  const cap = kind === "prediction" ? "Prediction" : "Training";
  const input = kind === "prediction" ? "Input" : "TrainingInput";
  const output = kind === "prediction" ? "Output" : "TrainingOutput";
  const verb = kind === "prediction" ? "predict" : "train";
  const idParam = `${kind}_id`;
  const idParameter = {
    name: idParam,
    in: "path",
    required: true,
    schema: { type: "string", title: `${cap} ID` },
  };
  const paths: Record<string, Record<string, JsonSchema>> = {
    [`/${plural}`]: {
      post: {
        summary: kind === "prediction" ? "Predict" : "Train",
        description: `Run a single ${kind} on the model`,
        operationId: operationId(verb, `/${plural}`, "post"),
        parameters: [PREFER_HEADER],
        requestBody: { content: json(ref(`${cap}Request`)) },
        responses: { "200": ok(ref(`${cap}Response`)), "422": VALIDATION_ERROR_RESPONSE },
      },
    },
    [`/${plural}/{${idParam}}`]: {
      put: {
        summary: kind === "prediction" ? "Predict Idempotent" : "Train Idempotent",
        description: `Run a single ${kind} on the model (idempotent creation).`,
        operationId: operationId(`${verb}_idempotent`, `/${plural}/_${idParam}_`, "put"),
        parameters: [idParameter, PREFER_HEADER],
        requestBody: {
          required: true,
          content: json({ allOf: [ref(`${cap}Request`)], title: `${cap} Request` }),
        },
        responses: { "200": ok(ref(`${cap}Response`)), "422": VALIDATION_ERROR_RESPONSE },
      },
    },
    [`/${plural}/{${idParam}}/cancel`]: {
      post: {
        summary: kind === "prediction" ? "Cancel" : "Cancel Training",
        description: `Cancel a running ${kind}`,
        operationId: operationId(
          kind === "prediction" ? "cancel" : "cancel_training",
          `/${plural}/_${idParam}_/cancel`,
          "post",
        ),
        parameters: [idParameter],
        responses: {
          "200": ok({ title: `Response Cancel ${cap}s  ${cap} Id  Cancel Post` }),
          "422": VALIDATION_ERROR_RESPONSE,
        },
      },
    },
  };
  const schemas: Record<string, JsonSchema> = {
    [`${cap}Request`]: {
      title: `${cap}Request`,
      type: "object",
      properties: {
        input: { ...ref(input), nullable: true },
        id: nullableString("Id"),
        created_at: dateTime("Created At"),
        context: {
          title: "Context",
          type: "object",
          additionalProperties: { type: "string" },
          nullable: true,
        },
        output_file_prefix: nullableString("Output File Prefix"),
        webhook: nullableString("Webhook", { format: "uri", maxLength: 65536, minLength: 1 }),
        webhook_events_filter: {
          type: "array",
          items: ref("WebhookEvent"),
          default: ["start", "output", "logs", "completed"],
          nullable: true,
        },
      },
    },
    [`${cap}Response`]: {
      title: `${cap}Response`,
      type: "object",
      properties: {
        input: { ...ref(input), nullable: true },
        output: ref(output),
        id: nullableString("Id"),
        version: nullableString("Version"),
        created_at: dateTime("Created At"),
        started_at: dateTime("Started At"),
        completed_at: dateTime("Completed At"),
        logs: { title: "Logs", type: "string", default: "" },
        error: nullableString("Error"),
        status: { ...ref("Status"), nullable: true },
        metrics: { title: "Metrics", type: "object", additionalProperties: true, nullable: true },
      },
    },
  };
  return { paths, schemas };
}

const ENVELOPE_SCHEMAS: Record<string, JsonSchema> = {
  Status: {
    title: "Status",
    description: "An enumeration.",
    enum: ["starting", "processing", "succeeded", "canceled", "failed"],
    type: "string",
  },
  WebhookEvent: {
    title: "WebhookEvent",
    description: "An enumeration.",
    enum: ["start", "output", "logs", "completed"],
    type: "string",
  },
  HTTPValidationError: {
    title: "HTTPValidationError",
    type: "object",
    properties: { detail: { title: "Detail", type: "array", items: ref("ValidationError") } },
  },
  ValidationError: {
    title: "ValidationError",
    type: "object",
    properties: {
      loc: { title: "Location", type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
      msg: { title: "Message", type: "string" },
      type: { title: "Error Type", type: "string" },
    },
    required: ["loc", "msg", "type"],
  },
};

/** Builds the full OpenAPI 3.0.2 document. Pure: same schema in, same document (and key order) out. */
export function buildOpenApi(schema: PredictorSchema, opts: { kilnVersion: string }): OpenApiDocument {
  const paths: Record<string, Record<string, JsonSchema>> = {
    "/": { get: simpleGet("Root", "root", "/", "Response Root  Get") },
    "/health-check": {
      get: simpleGet("Healthcheck", "healthcheck", "/health-check", "Response Healthcheck Health Check Get"),
    },
  };
  const schemas: Record<string, JsonSchema> = { ...ENVELOPE_SCHEMAS };
  // A train-only model (no `predict:`) documents no prediction paths and no Input/Output.
  if (!schema.trainOnly) {
    const predictions = entryPoint("prediction");
    Object.assign(paths, predictions.paths);
    Object.assign(schemas, {
      Input: { ...schema.input, title: "Input" },
      Output: { ...schema.output, title: "Output" },
      ...predictions.schemas,
    });
  }
  if (schema.train) {
    const trainings = entryPoint("training");
    Object.assign(paths, trainings.paths);
    Object.assign(schemas, trainings.schemas, {
      TrainingInput: { ...schema.train.input, title: "TrainingInput" },
      TrainingOutput: { ...schema.train.output, title: "TrainingOutput" },
    });
  }
  paths["/shutdown"] = {
    post: {
      summary: "Start Shutdown",
      operationId: "start_shutdown_shutdown_post",
      responses: { "200": ok({ title: "Response Start Shutdown Shutdown Post" }) },
    },
  };
  // Predictor components (enums) last; a name clash with the envelope keeps the envelope's.
  const extra = { ...schema.components, ...(schema.train?.components ?? {}) };
  for (const [name, component] of Object.entries(extra)) {
    if (!(name in schemas)) schemas[name] = component;
  }
  const sorted: Record<string, JsonSchema> = {};
  for (const name of Object.keys(schemas).sort()) sorted[name] = canonicalize(schemas[name] as JsonSchema);
  return {
    openapi: "3.0.2",
    info: { title: "Cog", version: opts.kilnVersion },
    paths,
    components: { schemas: sorted },
  };
}
