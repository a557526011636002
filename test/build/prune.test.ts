import { describe, expect, it } from "vitest";
import { supersededDeps } from "../../src/build/prune.js";
import type { LocalImage } from "../../src/docker/build.js";

function img(id: string, layers: string[], tags: string[], labels: Record<string, string> = {}): LocalImage {
  return { id, layers, repoTags: tags, labels };
}

describe("superseded dependencies images", () => {
  const oldDeps = img("d1", ["a", "b"], ["kiln-deps:old"], { "kiln.deps": "1", "kiln.deps.project": "p" });
  const curDeps = img("d2", ["a", "c"], ["kiln-deps:new"], { "kiln.deps": "1", "kiln.deps.project": "p" });
  const otherProject = img("d3", ["x"], ["kiln-deps:x"], { "kiln.deps": "1", "kiln.deps.project": "q" });

  it("are this project's, not the current one, and under no tagged model image", () => {
    const models = [img("m2", ["a", "c", "code"], ["me/model:latest"], { "run.cog.version": "1" })];
    expect(supersededDeps([oldDeps, curDeps, otherProject], models, "p", "d2").map((d) => d.id)).toEqual([
      "d1",
    ]);
  });

  it("stay while a tagged image (another model with the same dependencies) is built on them", () => {
    const models = [img("m1", ["a", "b", "code"], ["other/model:v1"], { "run.cog.version": "1" })];
    expect(supersededDeps([oldDeps, curDeps], models, "p", "d2")).toEqual([]);
  });

  it("do not count an untagged model image as a user, nor a model image as a dependencies image", () => {
    const dangling = img("m0", ["a", "b", "code"], [], { "run.cog.version": "1" });
    const inherited = img("m3", ["a", "c", "code"], ["me/model:latest"], {
      "run.cog.version": "1",
      "kiln.deps": "1",
      "kiln.deps.project": "p",
    });
    expect(supersededDeps([oldDeps, inherited], [dangling, inherited], "p", "d2").map((d) => d.id)).toEqual([
      "d1",
    ]);
  });
});
