/**
 * `kiln serve --queue redis://...` and its companions: flags -> the KILN_QUEUE* environment the model
 * server reads (in a container or with --no-docker alike), so queue mode has one configuration path.
 */
import { Option, type Command } from "commander";
import { UsageError } from "../errors.js";

export interface QueueFlags {
  queue?: string | undefined;
  lease?: string | undefined;
  onLost?: string | undefined;
  model?: string | undefined;
  drainTimeout?: string | undefined;
}

export function addQueueOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--queue <redis-url>",
        "also take predictions from this Redis (queue mode behind kiln gateway), e.g. redis://127.0.0.1:6379",
      ).env("KILN_QUEUE"),
    )
    .option("--model <owner/name>", "model name the fleet routes by (default kiln/<project or image name>)")
    .option("--lease <seconds>", "queue mode: reclaim a prediction whose replica is silent this long", "30")
    .option(
      "--on-lost <policy>",
      "queue mode: a reclaimed prediction is retried once (retry) or failed (fail)",
      "retry",
    )
    .option(
      "--drain-timeout <seconds>",
      "on stop: time running predictions get before they are handed back",
      "30",
    );
}

/**
 * The environment for queue mode; empty without --queue. `defaultModel` names the model when --model is
 * absent. The fleet modules (ioredis) are imported only with --queue.
 */
export async function queueEnv(
  flags: QueueFlags,
  defaultModel: string | undefined,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  if (flags.model !== undefined) {
    if (!/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(flags.model))
      throw new UsageError(`--model must look like owner/name, got ${JSON.stringify(flags.model)}`);
    env.KILN_MODEL = flags.model;
  }
  if (!flags.queue) return env;
  const { parseLostPolicy, FleetConfigError } = await import("../fleet/options.js");
  const { parseRedisUrl, RedisUrlError } = await import("../fleet/redis.js");
  try {
    parseRedisUrl(flags.queue);
    parseLostPolicy(flags.onLost, "--on-lost");
  } catch (err) {
    if (err instanceof RedisUrlError || err instanceof FleetConfigError) throw new UsageError(err.message);
    throw err;
  }
  for (const [flag, value] of [
    ["--lease", flags.lease],
    ["--drain-timeout", flags.drainTimeout],
  ] as const) {
    if (value !== undefined && !(Number(value) > 0))
      throw new UsageError(`${flag} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  }
  env.KILN_QUEUE = flags.queue;
  if (flags.lease) env.KILN_QUEUE_LEASE = flags.lease;
  if (flags.onLost) env.KILN_QUEUE_ON_LOST = flags.onLost;
  if (flags.drainTimeout) env.KILN_DRAIN_TIMEOUT = flags.drainTimeout;
  if (!env.KILN_MODEL && defaultModel) env.KILN_MODEL = defaultModel;
  return env;
}

/** kiln/<last path segment of an image repository>, e.g. registry:5000/team/sdxl:v2 -> kiln/sdxl. */
export function modelNameFromImage(image: string): string {
  const noDigest = image.split("@")[0]!;
  const lastSlash = noDigest.lastIndexOf("/");
  const repo = noDigest.slice(lastSlash + 1).split(":")[0] ?? "model";
  return `kiln/${repo.replace(/[^A-Za-z0-9._-]/g, "-") || "model"}`;
}
