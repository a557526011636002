/** `environment:` lists: NAME=value strings, with names kiln or the platform must own rejected. */
import { clip, quote, type ProblemList } from "./problems.js";
import type { KeyPath } from "./yaml-source.js";

/**
 * Cog's deny list (pkg/config): names the base image, Python or the platform own. A manifest that
 * sets one is refused, as Cog refuses it. Everything else passes, COG_* included (the runtime reads them).
 */
const RESERVED_NAMES: Record<string, string> = {
  PATH: "install tools into /usr/local/bin with build.run instead of changing PATH",
  LD_LIBRARY_PATH: "the CUDA/cuDNN base image sets it; install libraries with system_packages",
  LIBRARY_PATH: "the CUDA base image sets it",
  PYTHONPATH: "kiln puts the project (/src) and its runtime on the path itself",
  PYTHONUNBUFFERED: "kiln sets it so logs stream in order",
  VIRTUAL_ENV: "kiln manages the Python environment",
  HF_ENDPOINT: "reserved for weight downloads (as in Cog)",
  HF_HUB_ENABLE_HF_TRANSFER: "reserved for weight downloads (as in Cog)",
};

const RESERVED_PREFIXES: Record<string, string> = {
  CUDA_: "set build.gpu / build.cuda instead",
  NVIDIA_: "the GPU runtime sets these",
  NV_: "the GPU runtime sets these",
  R8_: "reserved by Replicate",
  REPLICATE_: "reserved by Replicate",
  PGET_: "reserved for weight downloads (as in Cog)",
  KUBERNETES_: "the orchestrator sets these",
  // kiln's addition: its image entry point reads KILN_PREDICTOR, KILN_ROOT... (no Cog project sets these)
  KILN_: "KILN_* variables are the kiln runtime's own settings",
};

/** Why `name` is reserved, or undefined when the manifest may set it. */
function reservedReason(name: string): string | undefined {
  if (name in RESERVED_NAMES) return RESERVED_NAMES[name];
  for (const [prefix, why] of Object.entries(RESERVED_PREFIXES)) if (name.startsWith(prefix)) return why;
  return undefined;
}

type SettingCheck = (value: string) => string | undefined;
const seconds: SettingCheck = (v) =>
  v.trim() !== "" && Number.isFinite(Number(v)) && Number(v) >= 0
    ? undefined
    : "a number of seconds (0 = none)";
const positive: SettingCheck = (v) => (/^[1-9][0-9]*$/.test(v.trim()) ? undefined : "a positive integer");
const anyValue: SettingCheck = () => undefined;

/** The COG_* settings the kiln runtime honours (in images and with --no-docker), and their value rules. */
const COG_RUNTIME_SETTINGS: Record<string, SettingCheck> = {
  COG_SETUP_TIMEOUT: seconds,
  COG_MAX_CONCURRENCY: positive,
  COG_THROTTLE_RESPONSE_INTERVAL: seconds,
  COG_STREAM_HISTORY_CAPACITY: positive,
  COG_LOG_LEVEL: (v) =>
    ["debug", "info", "warn", "warning", "error"].includes(v.trim().toLowerCase())
      ? undefined
      : "one of debug, info, warning, error",
  COG_WEIGHTS: anyValue,
  COG_NO_UPDATE_CHECK: anyValue,
};

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a NAME=value list and returns the parsed pairs (in order) of the valid entries. */
export function checkEnvironment(
  items: unknown,
  base: KeyPath,
  problems: ProblemList,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (!Array.isArray(items)) return env;
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    if (typeof item !== "string") return;
    const path = [...base, i];
    const eq = item.indexOf("=");
    if (eq <= 0) {
      const hint =
        eq === 0 ? "the name before = is empty" : `write it as "${clip(item.trim()) || "NAME"}=value"`;
      problems.error(path, `expected NAME=value, found ${quote(item)}`, hint);
      return;
    }
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!NAME.test(name)) {
      problems.error(
        path,
        `${quote(name)} is not a valid environment variable name`,
        "use letters, digits and _, not starting with a digit",
      );
      return;
    }
    const reserved = reservedReason(name);
    if (reserved) {
      problems.error(path, `${clip(name)} is reserved and cannot be set in cog.yaml`, reserved);
      return;
    }
    if (name.startsWith("COG_")) {
      const check = COG_RUNTIME_SETTINGS[name];
      const wrong = check?.(value);
      if (wrong) {
        problems.error(
          path,
          `${clip(name)} must be ${wrong}, found ${quote(value)}`,
          "the kiln runtime reads it at start",
        );
        return;
      }
      if (!check) {
        problems.warn(
          path,
          `${clip(name)} is passed to the model, but kiln's runtime does not act on it`,
          `settings kiln honours: ${Object.keys(COG_RUNTIME_SETTINGS).join(", ")}`,
          "key",
          "runtime_setting_ignored",
        );
      }
    }
    const first = seen.get(name);
    if (first !== undefined) {
      problems.error(path, `${clip(name)} is set twice (first at item ${first + 1})`, "keep one of them");
      return;
    }
    seen.set(name, i);
    env[name] = value;
  });
  return env;
}
