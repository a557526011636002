/** Test helpers: a throwaway project directory and the exact text a user would see. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { formatProblem } from "../../src/errors.js";
import { parseManifest, type ParseResult } from "../../src/manifest/parse.js";

export const PREDICT_PY =
  "from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, x: str) -> str:\n        return x\n";
export const PREDICT_TS =
  'import { z, definePredictor } from "kiln-ml";\n\nexport const predictor = definePredictor({});\n';

export interface Project {
  root: string;
  write(rel: string, content: string | Buffer): string;
  cleanup(): void;
}

export function makeProject(files: Record<string, string | Buffer> = {}): Project {
  const root = mkdtempSync(join(tmpdir(), "kiln-manifest-"));
  const write = (rel: string, content: string | Buffer): string => {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    return abs;
  };
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  return { root, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Parses `yaml` in a project holding predict.py, predict.ts and requirements.txt (plus `files`). */
export function parseIn(yaml: string, files: Record<string, string> = {}): ParseResult {
  const project = makeProject({
    "predict.py": PREDICT_PY,
    "predict.ts": PREDICT_TS,
    "requirements.txt": "torch==2.3.1\n",
    ...files,
  });
  try {
    return parseManifest(yaml, { file: "cog.yaml", root: project.root });
  } finally {
    project.cleanup();
  }
}

/** All problems as the CLI prints them, one block per problem. */
export function problemsText(yaml: string, files: Record<string, string> = {}): string {
  const { problems } = parseIn(yaml, files);
  return problems
    .map((p) => (p.severity === "warning" ? `warning: ${formatProblem(p)}` : formatProblem(p)))
    .join("\n");
}
