// `npm run bench`: runs every benchmark script in bench/ (each writes its own bench/results/*.md).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("./", import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs" && !f.endsWith("lib.mjs"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
let failed = 0;
for (const script of scripts) {
  console.log(`\n== bench/${script}`);
  const r = spawnSync(process.execPath, [`${dir}${script}`], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
