/**
 * The one entry point `kiln client` calls: schema document + facts -> module text, and, when the output
 * file already holds a generated client, what changed since (from the marker line it carries). Pure.
 */
import { diffModels, type Change } from "./diff.js";
import { markerDocument, readMarker } from "./marker.js";
import { clientModel, type ModelFacts } from "./model.js";
import { generatePython } from "./python.js";
import { generateTs } from "./ts.js";

export type ClientLanguage = "ts" | "python";

export interface GenerateRequest {
  doc: unknown;
  facts: ModelFacts;
  lang: ClientLanguage;
  kilnVersion: string;
  /** The command that regenerates the file (printed in its header). */
  command: string;
  /** The current content of the output file, if it exists. */
  previous?: string | undefined;
}

export interface GenerateResult {
  code: string;
  /** undefined: no previous file, or one that kiln did not generate (see `foreign`). */
  changes: Change[] | undefined;
  breaking: boolean;
  /** The previous file exists but carries no kiln marker: overwriting it would lose someone's code. */
  foreign: boolean;
  /** The previous file is byte-for-byte what would be generated now. */
  unchanged: boolean;
}

export function generateClient(req: GenerateRequest): GenerateResult {
  const model = clientModel(req.doc, req.facts);
  const opts = { kilnVersion: req.kilnVersion, command: req.command };
  const code = req.lang === "ts" ? generateTs(model, opts) : generatePython(model, opts);
  if (req.previous === undefined) {
    return { code, changes: undefined, breaking: false, foreign: false, unchanged: false };
  }
  const marker = readMarker(req.previous);
  if (!marker) return { code, changes: undefined, breaking: false, foreign: true, unchanged: false };
  const before = clientModel(markerDocument(marker), {
    model: marker.model,
    version: marker.version,
    source: "",
    baseUrl: null,
  });
  const changes = diffModels(before, model);
  if (before.model !== model.model) {
    changes.push({ severity: "note", where: "model", text: `${before.model} -> ${model.model}` });
  }
  return {
    code,
    changes,
    breaking: changes.some((c) => c.severity === "breaking"),
    foreign: false,
    unchanged: req.previous === code,
  };
}

/** `--lang`, or the output file's extension. */
export function languageFor(lang: string | undefined, file: string | undefined): ClientLanguage | undefined {
  const value = (lang ?? "").toLowerCase();
  if (value === "ts" || value === "typescript") return "ts";
  if (value === "python" || value === "py") return "python";
  if (value !== "") return undefined;
  if (file?.endsWith(".ts") || file?.endsWith(".mts")) return "ts";
  if (file?.endsWith(".py")) return "python";
  return undefined;
}
