import { describe, expect, it } from "vitest";
import { IgnoreMatcher, globToRegExp } from "../../src/build/dockerignore.js";

const m = (text: string): IgnoreMatcher => IgnoreMatcher.fromText(text);

describe(".dockerignore matching", () => {
  it("matches plain names at the root and everything below a matched directory", () => {
    const ig = m("build\n*.log");
    expect(ig.ignores("build")).toBe(true);
    expect(ig.ignores("build/x/y.txt")).toBe(true);
    expect(ig.ignores("src/build")).toBe(false);
    expect(ig.ignores("a.log")).toBe(true);
    expect(ig.ignores("logs/a.log")).toBe(false);
  });

  it("treats ** as any number of directories, including none", () => {
    const ig = m("**/*.pyc\nmodels/**/cache");
    expect(ig.ignores("a.pyc")).toBe(true);
    expect(ig.ignores("x/y/z.pyc")).toBe(true);
    expect(ig.ignores("models/cache")).toBe(true);
    expect(ig.ignores("models/a/b/cache/f")).toBe(true);
    expect(ig.ignores("models/a/b/cachex")).toBe(false);
  });

  it("lets a later ! pattern re-include, and the last match wins", () => {
    const ig = m("*.md\n!README.md\ndocs\n!docs/keep.txt\nREADME.md");
    expect(ig.ignores("CHANGES.md")).toBe(true);
    expect(ig.ignores("README.md")).toBe(true);
    expect(ig.ignores("docs/other.txt")).toBe(true);
    expect(ig.ignores("docs/keep.txt")).toBe(false);
    expect(m("*.md\n!README.md").ignores("README.md")).toBe(false);
  });

  it("ignores comments and blank lines, strips a leading slash and cleans ./ and ..", () => {
    const ig = m("# comment\n\n/secret.txt\n./data/../tmp\n");
    expect(ig.ignores("secret.txt")).toBe(true);
    expect(ig.ignores("tmp/a")).toBe(true);
    expect(ig.ignores("# comment")).toBe(false);
  });

  it("supports ? and character classes, and * never crosses a slash", () => {
    expect(globToRegExp("file?.txt").test("file1.txt")).toBe(true);
    expect(globToRegExp("file?.txt").test("file/.txt")).toBe(false);
    expect(globToRegExp("[a-c]*.bin").test("b9.bin")).toBe(true);
    expect(globToRegExp("[!a-c]*.bin").test("b9.bin")).toBe(false);
    expect(globToRegExp("*.bin").test("dir/x.bin")).toBe(false);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });

  it("only prunes directories when nothing can re-include files below them", () => {
    expect(m("data").canPrune("data")).toBe(true);
    expect(m("data\n!data/keep").canPrune("data")).toBe(false);
  });
});
