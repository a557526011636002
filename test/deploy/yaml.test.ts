/** The YAML writer: what it quotes, and that YAML 1.1 and 1.2 readers read back exactly the input. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { quoteIfNeeded, toYaml, toYamlDocuments, type YamlValue } from "../../src/deploy/yaml.js";

const TRICKY = [
  "on",
  "Off",
  "yes",
  "N",
  "true",
  "null",
  "~",
  "",
  "5000",
  "0x1F",
  "1e3",
  ".5",
  "-1",
  "+1",
  ".inf",
  "3s",
  "-f",
  "a: b",
  "key:",
  "#comment",
  "*alias",
  "&anchor",
  "!tag",
  "@at",
  "%pct",
  "a #b",
  "  padded ",
  "line\nbreak",
  'say "hi"',
  "it's",
  "tab\there",
  "ünïcode",
  "[x]",
  "{x}",
  "a,b",
  "|",
  ">",
];

describe("toYaml", () => {
  it("leaves plain words alone and quotes anything a reader could take for something else", () => {
    expect(quoteIfNeeded("nvidia.com/gpu")).toBe("nvidia.com/gpu");
    expect(quoteIfNeeded("start-first")).toBe("start-first");
    expect(quoteIfNeeded("on")).toBe('"on"');
    expect(quoteIfNeeded("5000")).toBe('"5000"');
    expect(quoteIfNeeded('b.status==="READY"')).toBe(`'b.status==="READY"'`);
  });

  for (const version of ["1.1", "1.2"] as const) {
    it(`round-trips tricky strings, numbers, booleans, nesting and empties (YAML ${version})`, () => {
      const value: YamlValue = {
        strings: TRICKY,
        map: Object.fromEntries(TRICKY.filter(Boolean).map((s, i) => [s, i])),
        numbers: [0, 1, -2, 3.5],
        flags: { on: true, off: false, none: null },
        nested: [{ a: [{ b: [] }, {}], c: { d: [[1, 2], ["x"]] } }],
      };
      expect(parse(toYaml(value), { version })).toEqual(value);
    });
  }

  it("separates documents with ---", () => {
    const text = toYamlDocuments([{ a: 1 }, { b: [1] }]);
    expect(text).toBe("a: 1\n---\nb:\n  - 1\n");
  });

  it("refuses numbers YAML cannot hold", () => {
    expect(() => toYaml({ n: Number.NaN })).toThrow(/NaN/);
  });
});
