import type { PredictorSchema } from "../../src/schema/types.js";

/** A hand-written schema in the exact shape workers report, exercising every fragment kind. */
export const sampleSchema: PredictorSchema = {
  input: {
    title: "Input",
    type: "object",
    properties: {
      prompt: {
        type: "string",
        title: "Prompt",
        description: "What to say",
        maxLength: 10,
        minLength: 1,
        "x-order": 0,
      },
      steps: { type: "integer", title: "Steps", default: 4, minimum: 1, maximum: 10, "x-order": 1 },
      scale: { type: "number", title: "Scale", default: 7.5, minimum: 0, maximum: 20, "x-order": 2 },
      flag: { type: "boolean", title: "Flag", default: false, "x-order": 3 },
      mode: { allOf: [{ $ref: "#/components/schemas/mode" }], default: "fast", "x-order": 4 },
      level: { allOf: [{ $ref: "#/components/schemas/level" }], "x-order": 5 },
      image: { type: "string", format: "uri", title: "Image", nullable: true, "x-order": 6 },
      images: {
        type: "array",
        items: { type: "string", format: "uri" },
        title: "Images",
        default: [],
        "x-order": 7,
      },
      token: {
        type: "string",
        format: "password",
        title: "Token",
        writeOnly: true,
        "x-cog-secret": true,
        nullable: true,
        "x-order": 8,
      },
      code: { type: "string", title: "Code", pattern: "^[a-z]+$", default: "abc", "x-order": 9 },
      seed: { type: "integer", title: "Seed", nullable: true, "x-order": 10 },
      tags: { type: "array", items: { type: "string" }, title: "Tags", default: ["a"], "x-order": 11 },
      extra: { type: "object", title: "Extra", nullable: true, "x-order": 12 },
      old: { type: "string", title: "Old", deprecated: true, nullable: true, "x-order": 13 },
    },
    required: ["prompt", "level"],
  },
  output: {
    title: "Output",
    type: "array",
    items: { type: "string" },
    "x-cog-array-type": "iterator",
    "x-cog-array-display": "concatenate",
  },
  components: {
    mode: { title: "mode", description: "An enumeration.", enum: ["fast", "slow"], type: "string" },
    level: { title: "level", description: "An enumeration.", enum: [1, 2, 3], type: "integer" },
  },
};
