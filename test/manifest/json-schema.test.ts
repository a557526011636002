/** schema/cog.schema.json is generated from the zod schema and must never drift from it. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manifestJsonSchema, manifestJsonSchemaText } from "../../src/manifest/json-schema.js";
import { BUILD_KEYS, TOP_LEVEL_KEYS } from "../../src/manifest/schema.js";

const FILE = new URL("../../schema/cog.schema.json", import.meta.url);

describe("cog.yaml JSON Schema", () => {
  it("schema/cog.schema.json matches the zod schema (regenerate: node scripts/gen-manifest-schema.mjs)", () => {
    const onDisk = readFileSync(FILE, "utf8");
    expect(onDisk, "schema/cog.schema.json is out of date: run node scripts/gen-manifest-schema.mjs").toBe(
      manifestJsonSchemaText(),
    );
  });

  it("describes every key, rejects unknown ones and marks deprecations", () => {
    const schema = manifestJsonSchema() as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<
        string,
        {
          anyOf?: {
            properties?: Record<string, { deprecated?: boolean; description?: string }>;
            additionalProperties?: boolean;
          }[];
        }
      >;
    };
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(TOP_LEVEL_KEYS);
    const build = schema.properties.build?.anyOf?.find((s) => s.properties);
    expect(Object.keys(build?.properties ?? {})).toEqual(BUILD_KEYS);
    expect(build?.additionalProperties).toBe(false);
    expect(build?.properties?.python_packages?.deprecated).toBe(true);
    expect(build?.properties?.pre_install?.deprecated).toBe(true);
    for (const key of BUILD_KEYS) expect(build?.properties?.[key]?.description, key).toBeTruthy();
  });
});
