/**
 * Cog commands and flags kiln does not have: one line saying what to type instead, rather than
 * commander's bare "unknown option". Checked on argv before parsing.
 */
const COMMANDS: Record<string, string> = {
  debug: "`cog debug` prints the generated Dockerfile: use `kiln dockerfile`",
  migrate: "`cog migrate` is not needed: kiln reads cog.yaml from every Cog version as it is",
  weights: "`cog weights`: list the weight files under weights: in cog.yaml; kiln layers them at build time",
};

const FLAGS: Record<string, string> = {
  "--gpus": "kiln passes --gpus all itself when build.gpu is true in cog.yaml; there is no --gpus flag",
  "--use-replicate-token": "log in to the registry once with `kiln login r8.im` (or `docker login`)",
  "--separate-weights": "kiln always puts weights in their own layers (list them under weights: in cog.yaml)",
  "--use-cuda-base-image": "kiln chooses the base image itself; use --base-image IMAGE to pick another",
  "--use-cog-base-image": "kiln chooses the base image itself; use --base-image IMAGE to pick another",
  "--x-fast":
    "Cog's experimental fast build has no kiln flag: kiln's builds cache dependencies and weights already",
  "--x-localimage": "kiln always builds with the local engine; --push pushes the result",
  "--strip": "kiln's images carry no build tools to strip; leave the flag out",
  "--precompile": "kiln has no precompile step; leave the flag out",
};

/** A pointer for the first Cog-only command or flag in `argv` (without node and script), else undefined. */
export function cogPointer(argv: readonly string[]): string | undefined {
  const positional = argv.filter((a) => !a.startsWith("-"));
  const command = positional[0];
  if (command !== undefined && command in COMMANDS) return COMMANDS[command];
  // Cog 0.16's `cog run CMD...` ran a command in the image; since Cog 0.17 `run` predicts, as here.
  // `kiln run IMAGE` takes one positional; two bare words in a row (`run python train.py`) are a command.
  const [first, second, third] = argv;
  if (
    first === "run" &&
    second &&
    third &&
    ![second, third].some((a) => a.startsWith("-") || a.includes("="))
  ) {
    const cmd = argv.slice(1).join(" ");
    return `\`cog run ${cmd}\` (Cog 0.16) ran a command in the image: use \`kiln exec ${cmd}\`; \`kiln run\` predicts, as \`cog run\` does since Cog 0.17`;
  }
  for (const arg of argv) {
    const flag = arg.split("=")[0]!;
    if (flag in FLAGS) return `${flag}: ${FLAGS[flag]}`;
  }
  return undefined;
}
