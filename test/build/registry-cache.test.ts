import { describe, expect, it } from "vitest";
import { depsCacheRef, depsCacheSources } from "../../src/build/registry-cache.js";
import { checkCacheTo } from "../../src/docker/build.js";
import { EXIT_CODES, UsageError } from "../../src/errors.js";

describe("registry cache references", () => {
  it("puts the dependencies cache in the image's repository under the kiln-deps tag", () => {
    expect(depsCacheRef("127.0.0.1:5001/team/model:v1")).toBe("127.0.0.1:5001/team/model:kiln-deps");
    expect(depsCacheRef("127.0.0.1:5001/team/model")).toBe("127.0.0.1:5001/team/model:kiln-deps");
    expect(depsCacheRef(`registry.example.com/m@sha256:${"a".repeat(64)}`)).toBe(
      "registry.example.com/m:kiln-deps",
    );
  });

  it("gives the dependencies stage each --cache-from image and its kiln-deps tag, once", () => {
    expect(depsCacheSources(undefined)).toEqual([]);
    expect(depsCacheSources(["r.io/a/b:v1", "r.io/a/b:v2"])).toEqual([
      "r.io/a/b:v1",
      "r.io/a/b:v2",
      "r.io/a/b:kiln-deps",
    ]);
  });
});

describe("--cache-to", () => {
  it("is refused with a usage error naming buildx when the client has no buildx", () => {
    let caught: unknown;
    try {
      checkCacheTo("buildkit-env", "type=registry,ref=r.io/a/b:cache", "/usr/bin/docker");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as UsageError;
    expect(err.exitCode).toBe(EXIT_CODES.usage);
    expect(err.message).toBe(
      "--cache-to type=registry,ref=r.io/a/b:cache needs docker buildx, and /usr/bin/docker has no buildx plugin.",
    );
    expect(err.hint).toMatch(/--cache-from/);
  });

  it("is passed through with buildx, and nothing is checked without it", () => {
    expect(() => checkCacheTo("buildx", "type=registry,ref=r.io/a/b:cache")).not.toThrow();
    expect(() => checkCacheTo("buildkit-env", undefined)).not.toThrow();
  });
});
