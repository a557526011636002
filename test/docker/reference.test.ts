import { describe, expect, it } from "vitest";
import {
  authKey,
  normalizeRegistry,
  parseReference,
  pinnedName,
  repositoryName,
  taggedName,
} from "../../src/docker/reference.js";

describe("parseReference", () => {
  it.each([
    [
      "127.0.0.1:5001/team/model:1.0",
      { registry: "127.0.0.1:5001", repository: "team/model", tag: "1.0", digest: undefined },
    ],
    [
      "registry.example.com/model",
      { registry: "registry.example.com", repository: "model", tag: undefined, digest: undefined },
    ],
    ["localhost/a/b/c", { registry: "localhost", repository: "a/b/c", tag: undefined, digest: undefined }],
    ["ubuntu", { registry: "docker.io", repository: "library/ubuntu", tag: undefined, digest: undefined }],
    ["me/model:v2", { registry: "docker.io", repository: "me/model", tag: "v2", digest: undefined }],
    [
      `r.io/m@sha256:${"a".repeat(64)}`,
      { registry: "r.io", repository: "m", tag: undefined, digest: `sha256:${"a".repeat(64)}` },
    ],
  ])("%s", (input, expected) => expect(parseReference(input)).toMatchObject(expected));

  it.each([
    ["", 'Invalid image name "": it is empty.'],
    ["r.io/Team/model", 'Invalid image name "r.io/Team/model": repository names must be lowercase ("Team").'],
    ["r.io/team//model", 'Invalid image name "r.io/team//model": it has an empty path component.'],
    [
      "r.io/model:bad tag",
      'Invalid image name "r.io/model:bad tag": "bad tag" is not a valid tag (letters, digits, _ . -; at most 128).',
    ],
    [
      "r.io/model@sha256:abc",
      'Invalid image name "r.io/model@sha256:abc": "sha256:abc" is not a digest (expected sha256:<64 hex digits>).',
    ],
    ["r.io/-model", 'Invalid image name "r.io/-model": "-model" is not a valid path component.'],
  ])("rejects %j", (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });

  it("prints names the way Docker does", () => {
    const hub = parseReference("ubuntu");
    expect(repositoryName(hub)).toBe("ubuntu");
    expect(taggedName(hub)).toBe("ubuntu:latest");
    const local = parseReference("127.0.0.1:5001/team/model:1");
    expect(pinnedName(local, "sha256:x")).toBe("127.0.0.1:5001/team/model@sha256:x");
  });
});

describe("registries", () => {
  it("normalises what users pass to login", () => {
    expect(normalizeRegistry(undefined)).toBe("docker.io");
    expect(normalizeRegistry("https://registry.example.com/v2/")).toBe("registry.example.com");
    expect(normalizeRegistry("index.docker.io")).toBe("docker.io");
    expect(() => normalizeRegistry("bad host!")).toThrow('Invalid registry "bad host!".');
  });

  it("uses Docker's keys for stored credentials", () => {
    expect(authKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(authKey("127.0.0.1:5002")).toBe("127.0.0.1:5002");
  });
});
