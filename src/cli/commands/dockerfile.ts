import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { formatBytes } from "../../format.js";
import type { CommandContext } from "../context.js";
import { addImageOptions } from "../image-options.js";
import { manifestFlag } from "../flags.js";
import { loadManifestForCommand } from "../load-manifest.js";

interface DockerfileFlags {
  context?: boolean;
  baseImage?: string;
  nodeImage?: string;
  caCert?: string;
}

export function registerDockerfile(program: Command, context: () => CommandContext): void {
  addImageOptions(program.command("dockerfile"), "")
    .description("print the Dockerfile that `kiln build` would use")
    .option("--context", "also list the build context (files and sizes)")
    .option("--ca-cert <file>", "extra CA certificate trusted by apt/pip/npm during the build")
    .action(async (flags: DockerfileFlags, cmd: Command) => {
      const ctx = context();
      const { manifest } = await loadManifestForCommand(ctx, manifestFlag(cmd));
      // The build modules load with the command that uses them, not with every kiln start.
      const [{ defaultCompiledPath }, { prepareBuild }, { findRuntimeBundle }, { listContext }] =
        await Promise.all([
          import("../../build/plan.js"),
          import("../../build/prepare.js"),
          import("../../build/bundle.js"),
          import("../../build/context.js"),
        ]);
      // TS predictors compile to a fixed path; list it when a previous build or run produced it.
      const compiledOf = (ref: typeof manifest.predict): string | undefined => {
        if (!ref || ref.language === "python") return undefined;
        const abs = join(manifest.root, defaultCompiledPath(ref.file));
        return existsSync(abs) ? abs : undefined;
      };
      const prepared = await prepareBuild(manifest, {
        baseImage: flags.baseImage,
        nodeImage: flags.nodeImage,
        caCertFile: flags.caCert,
        compiled: { predict: compiledOf(manifest.predict), train: compiledOf(manifest.train) },
      });
      ctx.out.print(prepared.dockerfile.trimEnd());
      for (const note of prepared.plan.notes) ctx.out.warn(note);
      if (!flags.context) return;
      let bundle: string | null = null;
      try {
        bundle = findRuntimeBundle();
      } catch {
        ctx.out.warn(
          "kiln's runtime bundle is not built (npm run build): kiln/runtime/ is left out of this listing",
        );
      }
      const entries = await listContext({
        root: manifest.root,
        plan: prepared.plan,
        dockerfile: prepared.dockerfile,
        runtimeBundle: bundle,
        caCertFile: flags.caCert,
      });
      const files = entries.filter((e) => e.type !== "directory");
      const total = files.reduce((n, e) => n + e.size, 0);
      ctx.out.print("");
      ctx.out.print(`# build context: ${files.length} files, ${formatBytes(total)}`);
      const width = Math.max(...files.map((e) => formatBytes(e.size).length));
      for (const e of files) {
        const size = e.type === "symlink" ? `-> ${e.linkname ?? ""}` : formatBytes(e.size).padStart(width);
        ctx.out.print(`${size}  ${e.name}`);
      }
    });
}
