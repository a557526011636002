/**
 * The pure helpers the per-request path uses to skip work: a request path that needs no URL parsing,
 * and an output that cannot hold a file reference (finished without the asynchronous encoding walk).
 */
import { describe, expect, it } from "vitest";
import { plainPath } from "../../src/runtime/http/router.js";
import { mayHoldFiles } from "../../src/runtime/core/runner.js";
import { RawJson } from "../../src/runtime/raw-json.js";

describe("plainPath", () => {
  it("takes the common targets as they are, without the query", () => {
    expect(plainPath("/predictions")).toBe("/predictions");
    expect(plainPath("/")).toBe("/");
    expect(plainPath("/predictions/abc-123_x~y/cancel")).toBe("/predictions/abc-123_x~y/cancel");
    expect(plainPath("/v1/predictions?cursor=a%20b")).toBe("/v1/predictions");
    expect(plainPath("//x")).toBe("//x");
  });

  it("leaves to URL parsing what it would change: dot segments, escapes, backslashes, odd characters", () => {
    for (const target of [
      "/a/../predictions",
      "/predictions/a.b",
      "/predictions/%2e%2e",
      "/a\\b",
      "/a b",
      "/é",
      "/a#b",
      "http://host/predictions",
      "*",
      "",
    ])
      expect(plainPath(target), target).toBeNull();
  });

  it("agrees with URL parsing wherever it answers", () => {
    for (const target of ["/predictions", "/v1/models/a/b/versions?x=1", "/:x/@y/(z)", "//x//y/"])
      expect(plainPath(target)).toBe(new URL(`http://localhost${target}`).pathname);
  });
});

describe("mayHoldFiles", () => {
  it("is false for values that hold no file reference", () => {
    for (const v of [undefined, null, "ok", 1, true, [], {}, [1, "a", { b: [null, { c: "$file" }] }]])
      expect(mayHoldFiles(v), JSON.stringify(v)).toBe(false);
    // A big string kept as bytes is never a reference.
    expect(mayHoldFiles(new RawJson([Buffer.from('"{\\"$file\\": 1}"')], 16))).toBe(false);
  });

  it("is true wherever a $file key sits, and for big structured outputs kept as bytes", () => {
    expect(mayHoldFiles({ $file: "/tmp/x" })).toBe(true);
    expect(mayHoldFiles([1, [2, { a: { $file: "/tmp/x" } }]])).toBe(true);
    expect(mayHoldFiles({ list: [new RawJson([Buffer.from("[1]")], 3)] })).toBe(true);
  });

  it("walks a deeply nested output without running out of stack", () => {
    let deep: unknown = { $file: "/tmp/x" };
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(mayHoldFiles(deep)).toBe(true);
  });
});
