import { Argument, Option, type Command } from "commander";
import { DEFAULT_REDIS_IMAGE, type DeployFlags, type DeployTarget } from "../../deploy/options.js";
import type { CommandContext } from "../context.js";
import { collect, readCa } from "../flags.js";

interface DeployCommandFlags extends DeployFlags {
  output?: string;
  apply?: boolean;
  caCert?: string;
  json?: boolean;
}

export function registerDeploy(program: Command, context: () => CommandContext): void {
  program
    .command("deploy")
    .description("write (and with --apply, apply) a Swarm stack or Kubernetes objects for a pushed image")
    .addArgument(new Argument("<target>", "swarm or kubernetes").choices(["swarm", "kubernetes"]))
    .argument("<image>", "the pushed image, pinned: registry/name@sha256:... (kiln push prints it)")
    .option("--replicas <n>", "model replicas", "2")
    .option("--name <name>", "name of the stack / objects (default: the repository's last component)")
    .option("--namespace <ns>", "kubernetes: namespace of every object")
    .option("--queue <redis-url>", "queue mode: replicas consume a Redis stream, a gateway serves /v1")
    .option("--redis-image <image>", "swarm --queue: the Redis image the stack runs", DEFAULT_REDIS_IMAGE)
    .option("--gateway-image <image>", "--queue: image of the gateway (default: the model image)")
    .addOption(
      new Option("--readiness <how>", "file: /var/run/cog/ready exists; http: /health-check is READY")
        .choices(["file", "http"])
        .default("file"),
    )
    .option("--cpu <quantity>", "CPU request per replica (1, 500m)", "1")
    .option("--memory <quantity>", "memory request and limit per replica (512Mi, 2Gi)", "2Gi")
    .addOption(
      new Option(
        "--autoscaler <kind>",
        "kubernetes: keda (queue lag; default with --queue), hpa (CPU), none",
      ).choices(["none", "keda", "hpa"]),
    )
    .option("--max-replicas <n>", "autoscaling ceiling (default: 4 x --replicas)")
    .addOption(
      new Option(
        "--endpoint-mode <mode>",
        "swarm: vip (routing mesh, published port) or dnsrr (overlay DNS only)",
      )
        .choices(["vip", "dnsrr"])
        .default("vip"),
    )
    .option("--publish <port>", "swarm vip: the published port", "5000")
    .option(
      "--constraint <expr>",
      "swarm: placement constraint, repeatable (node.labels.gpu==true)",
      collect,
      [] as string[],
    )
    .option("-o, --output <dir>", "write the file into DIR instead of printing it")
    .option("--apply", "then run docker stack deploy / kubectl apply on it")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .option("--json", "print a machine-readable summary")
    .action(async (target: DeployTarget, image: string, flags: DeployCommandFlags) => {
      const { output, apply, caCert, json, ...deployFlags } = flags;
      const ca = caCert ? await readCa(caCert) : undefined;
      // Loaded on use: the renderers and kubernetes-models' schemas cost start-up time elsewhere.
      const { runDeploy } = await import("../../deploy/run.js");
      await runDeploy(context(), {
        target,
        image,
        flags: deployFlags,
        output,
        apply: Boolean(apply),
        json: Boolean(json),
        ca,
      });
    });
}
