// Makes directory `dest` hold exactly the files of `staging`, touching only what differs: a file whose
// bytes are already in place is left alone, a new or changed one is written beside its target and
// renamed over it, and files `staging` lacks are removed last. A process that reads `dest` meanwhile
// (the integration tests build images from dist/runtime-bundle while another test file rebuilds it)
// never sees a missing or half-written file, as long as both builds produce the same output.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function filesUnder(dir, prefix = "") {
  const out = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, rel));
    else out.push(rel);
  }
  return out;
}

function sameBytes(a, b) {
  try {
    if (statSync(a).size !== statSync(b).size) return false;
    return readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

/** Brings `dest` to the contents of `staging` (then removed); returns how many files were written. */
export function syncDir(staging, dest) {
  mkdirSync(dest, { recursive: true });
  const wanted = filesUnder(staging);
  let written = 0;
  for (const rel of wanted) {
    const from = join(staging, rel);
    const to = join(dest, rel);
    if (sameBytes(from, to)) continue;
    mkdirSync(join(to, ".."), { recursive: true });
    const temp = `${to}.${process.pid}.tmp`;
    writeFileSync(temp, readFileSync(from), { mode: statSync(from).mode });
    renameSync(temp, to);
    written++;
  }
  const keep = new Set(wanted);
  for (const rel of filesUnder(dest)) if (!keep.has(rel) && !rel.endsWith(".tmp")) rmSync(join(dest, rel));
  rmSync(staging, { recursive: true, force: true });
  return written;
}
