import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKey, canonicalJson, keyedInput } from "../../../src/runtime/cache/key.js";
import { cacheDirective, uncacheableReason } from "../../../src/runtime/cache/policy.js";
import { JsonStringBytes } from "../../../src/runtime/raw-json.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-cache-key-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the cache key", () => {
  it("does not depend on key order, and refuses what JSON cannot say exactly", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, "x"], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(cacheKey("v1", { a: 1, b: 2 })).toBe(cacheKey("v1", { b: 2, a: 1 }));
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/NaN/);
  });

  it("a big request string kept as its bytes keys as the string, however it was escaped", () => {
    const text = "é/x".repeat(30_000);
    const plainLiteral = Buffer.from(JSON.stringify(text));
    const escapedLiteral = Buffer.from(`"${text.replace(/\//g, "\\/")}"`);
    const plain = new JsonStringBytes([plainLiteral], plainLiteral.length, text.length, false);
    const escaped = new JsonStringBytes([escapedLiteral], escapedLiteral.length, text.length, true);
    expect(cacheKey("v1", { prompt: plain })).toBe(cacheKey("v1", { prompt: text }));
    expect(cacheKey("v1", { prompt: escaped })).toBe(cacheKey("v1", { prompt: text }));
  });

  it("changes with the version and with any input value", () => {
    const base = cacheKey("v1", { prompt: "a cat", steps: 20 });
    expect(cacheKey("v2", { prompt: "a cat", steps: 20 })).not.toBe(base);
    expect(cacheKey("v1", { prompt: "a cat", steps: 21 })).not.toBe(base);
    expect(cacheKey("v1", { prompt: "a cat ", steps: 20 })).not.toBe(base);
    expect(cacheKey("v1", { prompt: "a cat", steps: "20" })).not.toBe(base);
  });

  it("keys file inputs by content, not by where they came from", async () => {
    const one = join(dir, "one.png");
    const two = join(dir, "two.png");
    const other = join(dir, "other.png");
    await writeFile(one, "same bytes");
    await writeFile(two, "same bytes");
    await writeFile(other, "other bytes");
    const k = async (image: unknown): Promise<string> =>
      cacheKey("v1", await keyedInput({ image, scale: 2 }, ["image"]));
    expect(await k(one)).toBe(await k(two));
    expect(await k(one)).not.toBe(await k(other));
    expect(await k([one, other])).not.toBe(await k([other, one]));
  });
});

describe("the cache policy", () => {
  it("reads Cache-Control: no-store bypasses, no-cache and max-age=0 refresh", () => {
    expect(cacheDirective(undefined)).toBe("use");
    expect(cacheDirective("no-store")).toBe("bypass");
    expect(cacheDirective("No-Cache")).toBe("refresh");
    expect(cacheDirective("max-age=0")).toBe("refresh");
    expect(cacheDirective(["public", "no-store"])).toBe("bypass");
  });

  it("caches a model with a seed input only when the seed is given", () => {
    const names = ["prompt", "seed"];
    expect(uncacheableReason({ prompt: "x", seed: null }, names)).toMatch(/seed is not given/);
    expect(uncacheableReason({ prompt: "x" }, names)).toMatch(/seed/);
    expect(uncacheableReason({ prompt: "x", seed: -1 }, names)).toMatch(/seed/);
    expect(uncacheableReason({ prompt: "x", seed: 42 }, names)).toBeNull();
    expect(uncacheableReason({ prompt: "x" }, ["prompt"])).toBeNull();
  });
});
