/** Builds the project's image for predict/serve/exec (through `kiln build`'s own code path). */
import { NotAvailableError } from "../errors.js";
import type { ResolvedManifest } from "../manifest/types.js";
import type { CommandContext } from "./context.js";

export interface ProjectImageOptions {
  progress: string;
}

/** Returns an image reference (name or id) built from the project's current files. */
export async function buildProjectImage(_ctx: CommandContext, _manifest: ResolvedManifest, _opts: ProjectImageOptions): Promise<string> {
  // Wired to src/build once `kiln build` lands on main (issue 5).
  throw new NotAvailableError("building the project for kiln predict (give an IMAGE meanwhile)");
}
