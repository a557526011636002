import { Argument, Option, type Command } from "commander";
import { DEFAULT_REDIS_IMAGE } from "../../deploy/options.js";
import type { CommandContext } from "../context.js";

export interface DeployFlags {
  replicas: string;
  name?: string;
  namespace?: string;
  queue?: string;
  redisImage: string;
  gatewayImage?: string;
  readiness: "file" | "http";
  cpu: string;
  memory: string;
  autoscaler?: "none" | "keda" | "hpa";
  maxReplicas?: string;
  endpointMode: "vip" | "dnsrr";
  publish: string;
  constraint: string[];
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
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option("-o, --output <dir>", "write the file into DIR instead of printing it")
    .option("--apply", "then run docker stack deploy / kubectl apply on it")
    .option("--ca-cert <file>", "PEM CA certificate that signed the registry's TLS certificate")
    .option("--json", "print a machine-readable summary")
    .action(async (target: "swarm" | "kubernetes", image: string, flags: DeployFlags) => {
      // Loaded on use: the renderers and kubernetes-models' schemas cost start-up time elsewhere.
      const { runDeploy } = await import("../deploy-run.js");
      await runDeploy(context(), target, image, flags);
    });
}
