/* eslint-disable @typescript-eslint/no-explicit-any -- tests dig into untyped JSON documents */
import { describe, expect, it } from "vitest";
import { buildOpenApi } from "../../src/schema/openapi.js";
import { canonicalize, titleCase } from "../../src/schema/fragments.js";
import { sampleSchema } from "./sample.js";

describe("buildOpenApi", () => {
  const doc = buildOpenApi(sampleSchema, { kilnVersion: "1.2.3" });
  const schemas = doc.components.schemas;

  it("has Cog's envelope", () => {
    expect(doc.openapi).toBe("3.0.2");
    expect(doc.info).toEqual({ title: "Cog", version: "1.2.3" });
    expect(Object.keys(doc.paths)).toEqual([
      "/",
      "/health-check",
      "/predictions",
      "/predictions/{prediction_id}",
      "/predictions/{prediction_id}/cancel",
      "/shutdown",
    ]);
    const post = doc.paths["/predictions"]?.post as Record<string, any>;
    expect(post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/PredictionRequest",
    });
    expect(post.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/PredictionResponse",
    });
    expect(post.responses["422"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/HTTPValidationError",
    });
    const put = doc.paths["/predictions/{prediction_id}"]?.put as Record<string, any>;
    expect(put.parameters[0]).toMatchObject({ name: "prediction_id", in: "path", required: true });
    expect(doc.paths["/predictions/{prediction_id}/cancel"]?.post).toBeDefined();
    expect(doc.paths["/shutdown"]?.post).toBeDefined();
  });

  it("holds every component, sorted, with the predictor's Input/Output and enums", () => {
    expect(Object.keys(schemas)).toEqual([
      "HTTPValidationError",
      "Input",
      "Output",
      "PredictionRequest",
      "PredictionResponse",
      "Status",
      "ValidationError",
      "WebhookEvent",
      "level",
      "mode",
    ]);
    expect(schemas.Input?.title).toBe("Input");
    expect(schemas.Output).toEqual({
      type: "array",
      items: { type: "string" },
      title: "Output",
      "x-cog-array-type": "iterator",
      "x-cog-array-display": "concatenate",
    });
    expect(schemas.Status).toMatchObject({
      enum: ["starting", "processing", "succeeded", "canceled", "failed"],
      type: "string",
    });
    expect(schemas.WebhookEvent).toMatchObject({ enum: ["start", "output", "logs", "completed"] });
    expect(schemas.ValidationError?.required).toEqual(["loc", "msg", "type"]);
    expect((schemas.PredictionRequest?.properties as any).input).toEqual({
      $ref: "#/components/schemas/Input",
      nullable: true,
    });
    expect((schemas.PredictionResponse?.properties as any).output).toEqual({
      $ref: "#/components/schemas/Output",
    });
    expect(schemas.mode).toEqual(sampleSchema.components.mode);
  });

  it("orders fragment keys canonically so both workers produce identical text", () => {
    const prop = (schemas.Input?.properties as any).steps;
    expect(Object.keys(prop)).toEqual(["type", "title", "default", "minimum", "maximum", "x-order"]);
    const shuffled = { "x-order": 1, maximum: 10, minimum: 1, default: 4, title: "Steps", type: "integer" };
    expect(JSON.stringify(canonicalize(shuffled))).toBe(JSON.stringify(prop));
  });

  it("adds trainings when the model has a trainer", () => {
    const withTrain = buildOpenApi(
      {
        ...sampleSchema,
        train: { input: { type: "object", properties: {} }, output: { type: "string" }, components: {} },
      },
      { kilnVersion: "1" },
    );
    expect(Object.keys(withTrain.paths)).toContain("/trainings");
    expect(Object.keys(withTrain.paths)).toContain("/trainings/{training_id}");
    expect(Object.keys(withTrain.paths)).toContain("/trainings/{training_id}/cancel");
    expect(withTrain.components.schemas.TrainingOutput).toEqual({ type: "string", title: "TrainingOutput" });
    expect(withTrain.components.schemas.TrainingInput?.title).toBe("TrainingInput");
    expect((withTrain.components.schemas.TrainingRequest?.properties as any).input.$ref).toBe(
      "#/components/schemas/TrainingInput",
    );
    expect(Object.keys(doc.paths)).not.toContain("/trainings");
  });

  it("is deterministic", () => {
    expect(JSON.stringify(buildOpenApi(sampleSchema, { kilnVersion: "1.2.3" }))).toBe(JSON.stringify(doc));
  });
});

describe("titleCase", () => {
  it("follows pydantic's rule", () => {
    expect(titleCase("num_inference_steps")).toBe("Num Inference Steps");
    expect(titleCase("s1")).toBe("S1");
    expect(titleCase("s1x")).toBe("S1X");
    expect(titleCase("prompt")).toBe("Prompt");
    expect(titleCase("numSteps")).toBe("Numsteps");
  });
});
