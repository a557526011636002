/**
 * Golden files for kiln deploy: image facts + flags -> test/deploy/golden/<case>.<target>.yaml.
 * Update on purpose only: UPDATE_GOLDEN=1 npx vitest run test/deploy, then review the diff.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderDeployment } from "../../src/deploy/render.js";
import { validateKubernetes } from "../../src/deploy/validate-kubernetes.js";
import { GOLDEN_CASES, options } from "./cases.js";

const DIR = join(import.meta.dirname, "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

describe("golden deployments", () => {
  for (const c of GOLDEN_CASES) {
    it(`${c.name} (${c.target})`, async () => {
      const rendered = renderDeployment(c.target, c.facts, options(c.target, c.facts, c.flags));
      const file = join(DIR, `${c.name}.${c.target}.yaml`);
      if (UPDATE) await writeFile(file, rendered.text);
      expect(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(rendered.text).toBe(await readFile(file, "utf8"));
      // The text is YAML that reads back as the same data in a 1.1 reader (docker's) and 1.2 reader.
      for (const version of ["1.1", "1.2"] as const) {
        const docs = parseAllDocuments(rendered.text, { version });
        for (const d of docs) expect(d.errors).toEqual([]);
        const data = docs.map((d) => d.toJS() as unknown);
        if (c.target === "kubernetes") expect(validateKubernetes(data)).toEqual([]);
      }
    });
  }
});
