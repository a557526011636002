/**
 * The interface a generated client was made for, kept in one comment line of the file itself, so that
 * regenerating can compare the old interface with the new one without any other state.
 */
import { isPlainObject } from "../schema/checks.js";
import type { JsonSchema } from "../schema/types.js";
import type { ClientModel } from "./model.js";

const TAG = "kiln-client-schema: ";

export interface Marker {
  model: string;
  version: string | null;
  input: JsonSchema;
  output: JsonSchema;
}

/** The marker line's text (without the comment token). */
export function schemaMarker(m: ClientModel): string {
  const marker: Marker = {
    model: m.model,
    version: m.version,
    input: m.schema.input,
    output: m.schema.output,
  };
  // U+2028/2029 would end a // comment in JavaScript: keep the line one line in every language.
  return (
    TAG +
    JSON.stringify(marker)
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029")
  );
}

/** The marker in a previously generated file, or undefined when the file has none (not ours). */
export function readMarker(text: string): Marker | undefined {
  for (const line of text.split("\n", 40)) {
    const at = line.indexOf(TAG);
    if (at < 0) continue;
    try {
      const value = JSON.parse(line.slice(at + TAG.length)) as unknown;
      if (isPlainObject(value) && isPlainObject(value.input) && isPlainObject(value.output)) {
        return {
          model: typeof value.model === "string" ? value.model : "",
          version: typeof value.version === "string" ? value.version : null,
          input: value.input,
          output: value.output,
        };
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** An OpenAPI-shaped document around a marker's schemas, for clientModel(). */
export function markerDocument(marker: Marker): { components: { schemas: Record<string, JsonSchema> } } {
  return { components: { schemas: { Input: marker.input, Output: marker.output } } };
}
