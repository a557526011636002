/** Renders an output value: text, JSON, images, audio, video and files (with download links), lists. */
import type { Json } from "./fields.js";
import { h } from "./dom.js";
import { classify, type Shown } from "./media.js";

function decodeDataText(url: string): string | null {
  const m = /^data:[^,]*?(;base64)?,(.*)$/is.exec(url);
  if (!m) return null;
  try {
    if (!m[1]) return decodeURIComponent(m[2]!);
    const bytes = Uint8Array.from(atob(m[2]!), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes.slice(0, 64 * 1024));
  } catch {
    return null;
  }
}

function download(url: string, name: string): HTMLElement {
  return h("a", { href: url, download: name, class: "download" }, `Download ${name}`);
}

function render(s: Shown): HTMLElement {
  switch (s.kind) {
    case "text":
      return h("pre", { class: "output-text" }, s.text);
    case "json":
      return h("pre", { class: "output-json mono" }, s.text);
    case "list":
      return h(
        "ol",
        { class: "output-list", "aria-label": `${s.items.length} outputs` },
        ...s.items.map((i) => h("li", {}, render(i))),
      );
    case "image":
      return h(
        "figure",
        { class: "output-media" },
        h("img", { src: s.url, alt: `output image ${s.name}` }),
        h("figcaption", {}, download(s.url, s.name)),
      );
    case "audio":
      return h(
        "figure",
        { class: "output-media" },
        h("audio", { src: s.url, controls: true, "aria-label": `output audio ${s.name}` }),
        h("figcaption", {}, download(s.url, s.name)),
      );
    case "video":
      return h(
        "figure",
        { class: "output-media" },
        h("video", { src: s.url, controls: true, "aria-label": `output video ${s.name}` }),
        h("figcaption", {}, download(s.url, s.name)),
      );
    case "text-file": {
      const text = s.url.startsWith("data:") ? decodeDataText(s.url) : null;
      return h(
        "figure",
        { class: "output-file" },
        text !== null ? h("pre", { class: "output-text" }, text) : null,
        h("figcaption", {}, download(s.url, s.name)),
      );
    }
    case "file":
      return h(
        "figure",
        { class: "output-file" },
        h("figcaption", {}, download(s.url, s.name), s.mime ? ` (${s.mime})` : ""),
      );
  }
}

export function renderOutput(value: Json, concatenate: boolean): HTMLElement {
  if (value === null) return h("p", { class: "muted" }, "No output.");
  return render(classify(value, concatenate));
}
