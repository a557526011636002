import { Option, type Command } from "commander";
import { NotAvailableError } from "../../errors.js";
import type { CommandContext } from "../context.js";

export function registerBuild(program: Command, _context: () => CommandContext): void {
  program
    .command("build")
    .description("build the model's image")
    .option("-t, --tag <image>", "image name (default: `image` in cog.yaml, else kiln-<dirname>)")
    .option("--no-cache", "build without the layer cache")
    .addOption(new Option("--progress <mode>", "progress output").choices(["auto", "plain", "quiet", "json"]).default("auto"))
    .option("--secret <spec...>", "build secret: id=NAME,src=FILE or id=NAME,env=VAR (repeatable)")
    .option("--ca-cert <file>", "extra CA certificate trusted by apt/pip/npm during the build")
    .option("--base-image <image>", "use this base image instead of the computed one")
    .option("--platform <platform>", "target platform, e.g. linux/amd64")
    .option("--push", "push the image after building")
    .option("--cache-from <ref...>", "registry image to reuse cached layers from")
    .option("--cache-to <ref>", "registry image to export the build cache to")
    .option("--openapi-schema <file>", "use this OpenAPI document instead of computing it")
    .option("--json", "print a machine-readable result (image id, digest, labels, timings)")
    .action(() => {
      throw new NotAvailableError("kiln build");
    });
}
