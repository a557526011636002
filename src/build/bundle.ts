/** Finds the kiln runtime bundle (dist/runtime-bundle: server.mjs, node-worker.mjs, python/) to copy into images. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BuildError } from "../errors.js";

const CANDIDATES = ["../../dist/runtime-bundle/", "../runtime-bundle/", "../../runtime-bundle/"];

export function findRuntimeBundle(): string {
  const override = process.env.KILN_RUNTIME_BUNDLE;
  const dirs = override ? [override] : CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url)));
  for (const dir of dirs) {
    if (existsSync(`${dir}/server.mjs`) && existsSync(`${dir}/node-worker.mjs`)) return dir;
  }
  throw new BuildError("kiln's runtime bundle (server.mjs, node-worker.mjs, python/) was not found", {
    hint: override
      ? `KILN_RUNTIME_BUNDLE=${override} has no server.mjs/node-worker.mjs.`
      : "Run `npm run build` in the kiln checkout (it writes dist/runtime-bundle/).",
  });
}
