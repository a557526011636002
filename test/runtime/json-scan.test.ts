/**
 * The request body scanner (issue 15): big string literals are kept as the request's bytes and checked
 * while they stream past; the rest is a small skeleton for JSON.parse. Linearity is checked by counting
 * the bytes the scanner looked at, never by timing.
 */
import { describe, expect, it } from "vitest";
import { BIG_STRING_BYTES, JsonBodyScanner } from "../../src/runtime/http/json-scan.js";
import { parseScanned } from "../../src/runtime/http/body.js";
import { refusal, scan } from "./json-body-helpers.js";
import { JsonStringBytes, stringifyJson } from "../../src/runtime/raw-json.js";
import { isExternalString } from "../../src/schema/external-string.js";

/** Plain values, with kept strings turned back into strings (to compare with JSON.parse). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe("big strings stay bytes", () => {
  it("a 20 MB string in 64 KiB reads: each byte looked at once, a skeleton of a few dozen bytes", () => {
    const text = "x".repeat(20 * 1024 * 1024);
    const body = JSON.stringify({ input: { text, n: 3 } });
    const { scanner, value } = scan(body);
    // Searched for its closing quote and its backslashes, then checked: three passes at most.
    expect(scanner.bytesScanned).toBeLessThanOrEqual(3 * body.length);
    expect(scanner.bytesScanned).toBeGreaterThanOrEqual(2 * body.length - 100);
    const kept = (value as { input: { text: JsonStringBytes; n: number } }).input;
    expect(kept.n).toBe(3);
    expect(kept.text).toBeInstanceOf(JsonStringBytes);
    expect(isExternalString(kept.text)).toBe(true);
    expect(kept.text.codePoints).toBe(text.length);
    expect(kept.text.escaped).toBe(false);
    expect(kept.text.bytes).toBe(text.length + 2);
    // The request's own buffers, not a copy: one part per read.
    expect(kept.text.parts.length).toBeGreaterThan(300);
    expect(kept.text.text() === text).toBe(true);
    expect(scanner.strings).toHaveLength(1);
  });

  it("a string made of escapes costs the same few passes: no search goes back over what it passed", () => {
    const text = 'line\n\t"q"\\'.repeat(200_000); // 2.6 MB of text, 1.2 million escapes
    const body = JSON.stringify({ input: { text } });
    for (const size of [4096, 65_536]) {
      const { scanner, value } = scan(body, size);
      expect(scanner.bytesScanned).toBeLessThanOrEqual(3 * body.length);
      const kept = (value as { input: { text: JsonStringBytes } }).input.text;
      expect(kept.escaped).toBe(true);
      expect(kept.codePoints).toBe(text.length);
      expect(kept.text() === text).toBe(true);
    }
  });

  it("the kept bytes go back out as they came: stringifyJson splices them", () => {
    const text = "y".repeat(BIG_STRING_BYTES * 2);
    const { value } = scan(JSON.stringify({ input: { text } }));
    const out = stringifyJson({ status: "ok", input: (value as { input: unknown }).input });
    expect(Array.isArray(out)).toBe(true);
    expect(Buffer.concat((out as (string | Buffer)[]).map((c) => Buffer.from(c))).toString()).toBe(
      JSON.stringify({ status: "ok", input: { text } }),
    );
  });

  it("escapes, multi-byte text and surrogate pairs: same value and code points at every read size", () => {
    const text = 'a"b\\c/\n\t\u0001é中😀 \ud83d\ude00 end';
    // Escaped in every way JSON allows: \uXXXX for all but ASCII letters.
    const escaped = `"${[...text].map((ch) => (/[a-z ]/.test(ch) ? ch : JSON.stringify(ch).slice(1, -1))).join("")}\\ud83d\\ude00\\/"`;
    const want = JSON.parse(escaped) as string;
    const body = `{"k":[${escaped},${JSON.stringify(text)}],"small":"s"}`;
    for (let size = 1; size <= 12; size++) {
      // bigBytes 8: every string but "s" is kept as bytes.
      const { value } = scan(body, size, 8);
      const v = value as { k: JsonStringBytes[]; small: string };
      expect(v.small).toBe("s");
      expect(v.k[0]!.text()).toBe(want);
      expect(v.k[0]!.codePoints).toBe([...want].length);
      expect(v.k[0]!.escaped).toBe(true);
      expect(v.k[1]!.text()).toBe(text);
      expect(v.k[1]!.codePoints).toBe([...text].length);
    }
  });

  it("agrees with JSON.parse on a mixed document, whatever the chunking", () => {
    const doc = {
      input: {
        prompt: "p".repeat(70_000),
        list: ["é".repeat(40_000), 1, null, { deep: "中".repeat(30_000) }],
      },
      id: "abc",
      context: { a: "b" },
    };
    const body = JSON.stringify(doc);
    for (const size of [1000, 4096, 65_536, 65_537]) expect(plain(scan(body, size).value)).toEqual(doc);
  });

  it("a big object key becomes a plain key again", () => {
    const key = "k".repeat(BIG_STRING_BYTES);
    const { value } = scan(JSON.stringify({ [key]: 1 }));
    expect(Object.keys(value as object)).toEqual([key]);
  });

  it("a client cannot forge a placeholder", () => {
    const { value } = scan(JSON.stringify({ a: "kiln-big-string-0-0", b: "x".repeat(BIG_STRING_BYTES) }));
    expect((value as { a: string }).a).toBe("kiln-big-string-0-0");
  });
});

describe("bad bodies get the same clear 400s", () => {
  const big = "z".repeat(BIG_STRING_BYTES + 10);

  it("a truncated body (inside a big string) names where it ended", async () => {
    const body = `{"input":{"text":"${big}`;
    expect(await refusal(body)).toBe(
      `invalid JSON body: Unterminated string in JSON at position ${body.length}`,
    );
  });

  it("a bad escape or a raw control character inside a big string names its position", async () => {
    const at = `{"t":"${big}`.length;
    expect(await refusal(`{"t":"${big}\\q"}`)).toBe(
      `invalid JSON body: Bad escaped character in JSON at position ${at + 1}`,
    );
    expect(await refusal(`{"t":"${big}\\u12G4"}`)).toBe(
      `invalid JSON body: Bad Unicode escape in JSON at position ${at + 4}`,
    );
    expect(await refusal(`{"t":"${big}\u0007"}`)).toBe(
      `invalid JSON body: Bad control character in string literal in JSON at position ${at}`,
    );
  });

  it("invalid UTF-8 inside a big string, split across reads or not, is refused", async () => {
    const head = Buffer.from(`{"t":"${big}`);
    // Two reads, cut at every offset around the character (and one read for the whole).
    const cuts = [0, 1, 2, 3, 4, 5].map((k) => head.length - 1 + k);
    for (const bad of [[0xff], [0xc3, 0x28], [0xe4, 0xb8], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
      const body = Buffer.concat([head, Buffer.from(bad), Buffer.from('"}')]);
      for (const cut of cuts) {
        expect(await refusal([body.subarray(0, cut), body.subarray(cut)])).toMatch(
          /not valid UTF-8 in JSON at position \d+$/,
        );
      }
    }
    // Valid multi-byte characters cut at every offset pass.
    const ok = Buffer.concat([head, Buffer.from("中😀é"), Buffer.from('"}')]);
    for (let cut = head.length - 1; cut < head.length + 10; cut++) {
      const scanner = new JsonBodyScanner();
      scanner.push(ok.subarray(0, cut));
      scanner.push(ok.subarray(cut));
      const t = (parseScanned(scanner) as { t: JsonStringBytes }).t;
      expect(t.text() === `${big}中😀é`).toBe(true);
      expect(t.codePoints).toBe(big.length + 3);
    }
  });

  it("a grammar error after a big string is reported at its position in the body, not the skeleton", async () => {
    const body = `{"t":"${big}",}`;
    const detail = await refusal(body);
    expect(detail).toMatch(/^invalid JSON body: /);
    expect(detail).toContain(`position ${body.length - 1}`);
  });

  it("nesting deeper than the limit is refused before parsing", async () => {
    expect(await refusal(`${"[".repeat(300)}${"]".repeat(300)}`)).toMatch(/nested deeper than 256 levels/);
  });

  it("invalid UTF-8 outside big strings is refused as before", async () => {
    expect(await refusal(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toMatch(
      /not valid UTF-8/,
    );
  });
});
