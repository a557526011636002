/**
 * A file input: a native file picker (keyboard and screen-reader friendly), a drop zone for drag and
 * drop, a URL box, and a preview of what was chosen. A list-of-files input takes several.
 */
import { h, uid } from "./dom.js";
import { fileName, mediaKind, mimeOf } from "./media.js";

/** A chosen file: picked/dropped bytes, or a URL (typed, or from a prediction in history). */
export type FileEntry = { file: File } | { url: string };

export interface FileControl {
  root: HTMLElement;
  input: HTMLInputElement;
  entries(): FileEntry[];
  set(urls: string[]): void;
}

function formatSize(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 * 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function preview(entry: FileEntry, index: number): HTMLElement {
  const url = "file" in entry ? URL.createObjectURL(entry.file) : entry.url;
  const mime = "file" in entry ? entry.file.type || mimeOf(entry.file.name) : mimeOf(entry.url);
  const name = "file" in entry ? entry.file.name : fileName(entry.url, index);
  const kind = mediaKind(mime);
  const label = "file" in entry ? `${name} (${formatSize(entry.file.size)})` : name;
  const media =
    kind === "image"
      ? h("img", { src: url, alt: `preview of ${name}` })
      : kind === "audio"
        ? h("audio", { src: url, controls: true, "aria-label": `preview of ${name}` })
        : kind === "video"
          ? h("video", { src: url, controls: true, "aria-label": `preview of ${name}` })
          : null;
  return h("figure", { class: "file-preview" }, media, h("figcaption", {}, label));
}

export function createFileControl(opts: {
  id: string;
  multiple: boolean;
  accept: string | null;
  describedBy: string;
  label: string;
}): FileControl {
  let chosen: FileEntry[] = [];
  const input = h("input", {
    type: "file",
    id: opts.id,
    multiple: opts.multiple,
    accept: opts.accept ?? undefined,
    "aria-describedby": opts.describedBy,
  });
  const urlId = uid("url");
  const urlBox = h("input", {
    type: "url",
    id: urlId,
    class: "file-url",
    placeholder: "https://… or data:…",
    "aria-describedby": opts.describedBy,
  });
  const previews = h("div", { class: "file-previews", "aria-live": "polite" });
  const clearButton = h("button", { type: "button", class: "link", hidden: true }, `Clear ${opts.label}`);
  const zone = h(
    "div",
    { class: "drop-zone", "data-drop": "true" },
    input,
    h("span", { class: "drop-hint" }, opts.multiple ? "or drop files here" : "or drop a file here"),
  );

  function render(): void {
    previews.replaceChildren(...chosen.map((e, i) => preview(e, i)));
    clearButton.hidden = chosen.length === 0;
  }
  function take(files: FileList | File[]): void {
    const list = [...files].map((file) => ({ file }));
    chosen = opts.multiple ? [...chosen.filter((e) => "file" in e), ...list] : list.slice(0, 1);
    urlBox.value = "";
    render();
  }
  input.addEventListener("change", () => input.files && take(input.files));
  urlBox.addEventListener("change", () => {
    const urls = urlBox.value.split(/\s+/).filter(Boolean);
    chosen = urls.map((url) => ({ url }));
    input.value = "";
    render();
  });
  clearButton.addEventListener("click", () => {
    chosen = [];
    input.value = "";
    urlBox.value = "";
    render();
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const files = (e as DragEvent).dataTransfer?.files;
    if (files && files.length > 0) take(files);
  });

  const root = h(
    "div",
    { class: "file-control" },
    zone,
    h("label", { for: urlId, class: "sub-label" }, `${opts.label}: or a URL`),
    urlBox,
    previews,
    clearButton,
  );
  return {
    root,
    input,
    entries: () => chosen,
    set(urls) {
      chosen = urls.map((url) => ({ url }));
      input.value = "";
      urlBox.value = urls.filter((u) => !u.startsWith("data:")).join(" ");
      render();
    },
  };
}
