import { describe, expect, it } from "vitest";
import { classify, fileName, mediaKind, mimeOf } from "../../src/playground/page/media.js";

describe("output previews", () => {
  it("knows media from data URIs and URL extensions", () => {
    expect(mimeOf("data:image/png;base64,AAAA")).toBe("image/png");
    expect(mimeOf("data:,hello")).toBe("text/plain");
    expect(mimeOf("http://h/x/out.WAV?sig=1")).toBe("audio/wav");
    expect(mimeOf("http://h/x/out")).toBeNull();
    expect(mediaKind("image/png")).toBe("image");
    expect(mediaKind("image/x-portable-pixmap")).toBe("file");
    expect(mediaKind("video/mp4")).toBe("video");
    expect(mediaKind("application/json")).toBe("text-file");
  });

  it("names downloads", () => {
    expect(fileName("http://h/files/a%20b.png", 0)).toBe("a b.png");
    expect(fileName("data:image/png;base64,AA", 2)).toBe("output-3.png");
    expect(fileName("data:application/x-thing;base64,AA", 0)).toBe("output-1.thing");
    expect(fileName("data:application/octet-stream;base64,AA", 3)).toBe("output-4.bin");
  });

  it("classifies outputs: text, JSON, files, several outputs, concatenated text", () => {
    expect(classify("hello")).toEqual({ kind: "text", text: "hello" });
    expect(classify("hello there https://x")).toEqual({ kind: "text", text: "hello there https://x" });
    expect(classify({ a: 1 })).toEqual({ kind: "json", text: '{\n  "a": 1\n}' });
    expect(classify(3)).toEqual({ kind: "json", text: "3" });
    expect(classify(["a", "b "], true)).toEqual({ kind: "text", text: "ab " });
    const list = classify(["data:image/png;base64,AA", "data:audio/wav;base64,AA"]);
    expect(list.kind).toBe("list");
    expect(list.kind === "list" && list.items.map((i) => i.kind)).toEqual(["image", "audio"]);
  });
});
