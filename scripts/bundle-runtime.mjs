// Bundles the runtime half (predict server + node worker + SDK) into self-contained files under
// dist/runtime-bundle/, which the Dockerfile copies into images. Filled in by the runtime work.
import { mkdirSync } from "node:fs";
mkdirSync(new URL("../dist/runtime-bundle/", import.meta.url), { recursive: true });
