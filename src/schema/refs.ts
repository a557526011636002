/**
 * The one `$ref` resolver for prediction schemas, used by the server's validator, the file-field scan
 * and the CLI's view of an image's inputs. It follows `$ref`, Cog's `allOf: [{$ref}]` enum form and
 * newer Cog's `anyOf: [T, {type: null}]` for Optional[T] (which becomes T with `nullable: true`), and
 * keeps the referencing object's own keys (default, description, x-order) over the target's.
 */
import type { JsonSchema } from "./types.js";
import { EXTERNAL_STRING } from "./external-string.js";
import { EXTERNAL_ARRAY } from "./external-array.js";

type Components = Record<string, JsonSchema>;

const REF_PREFIX = "#/components/schemas/";
/** Reference chains longer than this are malformed (or cyclic): the schema is used as it stands. */
const MAX_DEPTH = 8;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(EXTERNAL_STRING in value) &&
    !(EXTERNAL_ARRAY in value)
  );
}

// Per property object: the validator resolves on every request.
const resolved = new WeakMap<JsonSchema, JsonSchema>();

export function resolveSchema(prop: JsonSchema, components: Components): JsonSchema {
  if (prop.allOf === undefined && prop.$ref === undefined && prop.anyOf === undefined) return prop;
  let hit = resolved.get(prop);
  if (!hit) {
    hit = resolveChain(prop, components, 0);
    resolved.set(prop, hit);
  }
  return hit;
}

function resolveChain(prop: JsonSchema, components: Components, depth: number): JsonSchema {
  if (depth >= MAX_DEPTH) return prop;
  const ref = prop.$ref;
  if (typeof ref === "string") {
    const target = ref.startsWith(REF_PREFIX) ? components[ref.slice(REF_PREFIX.length)] : undefined;
    if (!target) return prop;
    const { $ref: _ref, ...own } = prop;
    return resolveChain({ ...target, ...own }, components, depth + 1);
  }
  const allOf = prop.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isPlainObject(allOf[0])) {
    const { allOf: _allOf, ...own } = prop;
    return { ...resolveChain(allOf[0], components, depth + 1), ...own };
  }
  const anyOf = prop.anyOf;
  if (Array.isArray(anyOf)) {
    const nonNull = anyOf.filter((s) => isPlainObject(s) && s["type"] !== "null");
    if (nonNull.length === 1 && nonNull.length < anyOf.length && isPlainObject(nonNull[0])) {
      const { anyOf: _anyOf, ...own } = prop;
      return { ...resolveChain(nonNull[0], components, depth + 1), ...own, nullable: true };
    }
  }
  return prop;
}
