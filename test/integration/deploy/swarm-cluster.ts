/**
 * The two-node Swarm of scripts/swarm-2node.sh, driven from a test: start/stop it, run docker against
 * either node, move an image from the machine's engine into node A's registry, run the kiln CLI (or any
 * command) inside node A's network namespace, and wait for a service to converge.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { cliPath } from "../predict-cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SCRIPT = join(ROOT, "scripts", "swarm-2node.sh");
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";

export interface Cluster {
  id: number;
  state: string;
  nsA: string;
  addrA: string;
  addrB: string;
  registry: string;
  sockets: { a: string; b: string };
}

export type NodeName = "a" | "b";

/** Fails (never skips) when the machine cannot host the cluster: the tools come from test-env.sh. */
export async function requireClusterTools(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error("the two-node Swarm test runs as root (network namespaces, dockerd)");
  for (const tool of ["ip", "nsenter", "dockerd", "docker-registry", "curl"]) {
    const r = await execa("sh", ["-c", `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) throw new Error(`${tool} is missing: provision with bash scripts/test-env.sh`);
  }
}

export async function startCluster(id: number): Promise<Cluster> {
  const r = await execa("bash", [SCRIPT, "up", String(id)], { reject: false });
  if (r.exitCode !== 0) throw new Error(`swarm-2node.sh up failed:\n${r.stderr}`);
  const v = Object.fromEntries(r.stdout.split("\n").map((l) => l.split("=", 2) as [string, string]));
  return {
    id,
    state: v.STATE!,
    nsA: v.NS_A!,
    addrA: v.ADDR_A!,
    addrB: v.ADDR_B!,
    registry: v.REGISTRY!,
    sockets: { a: v.SOCKET_A!, b: v.SOCKET_B! },
  };
}

export async function stopCluster(id: number): Promise<void> {
  await execa("bash", [SCRIPT, "down", String(id)], { reject: false });
}

export async function docker(c: Cluster, node: NodeName, args: string[], input?: string): Promise<string> {
  const r = await execa(DOCKER, ["-H", `unix://${c.sockets[node]}`, ...args], {
    reject: false,
    ...(input !== undefined ? { input } : {}),
    env: { DOCKER_BUILDKIT: "0" },
  });
  if (r.exitCode !== 0) throw new Error(`docker (node ${node}) ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Copies a local image into node A, pushes it to the cluster's registry, returns name@sha256:.... */
export async function pushToCluster(
  c: Cluster,
  localTag: string,
  repo: string,
  tag: string,
): Promise<string> {
  // A shell pipe: the image streams from one engine to the other without being buffered here.
  await execa(
    "bash",
    ["-o", "pipefail", "-c", 'docker save "$1" | docker -H "unix://$2" load -q', "-", localTag, c.sockets.a],
    {
      env: { PATH: `${DOCKER.replace(/\/docker$/, "")}:${process.env.PATH ?? ""}` },
    },
  );
  const target = `${c.registry}/${repo}:${tag}`;
  await docker(c, "a", ["tag", localTag, target]);
  return pushFromA(c, target);
}

/** Pushes an image node A already has; returns the pinned name. */
export async function pushFromA(c: Cluster, target: string): Promise<string> {
  await docker(c, "a", ["push", target]);
  const digests = JSON.parse(
    await docker(c, "a", ["image", "inspect", "--format", "{{json .RepoDigests}}", target]),
  ) as string[];
  const repo = target.slice(0, target.lastIndexOf(":"));
  const pinned = digests.find((d) => d.startsWith(`${repo}@`));
  if (!pinned) throw new Error(`no digest for ${target} after push: ${digests.join(", ")}`);
  return pinned;
}

/** The kiln CLI run inside node A's network namespace, against node A's engine and registry. */
export async function kilnOnA(
  c: Cluster,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa(
    "nsenter",
    [`--net=/run/netns/${c.nsA}`, process.execPath, await cliPath(), ...args],
    {
      reject: false,
      env: { DOCKER_HOST: `unix://${c.sockets.a}`, KILN_INSECURE_REGISTRIES: c.registry, NO_COLOR: "1" },
    },
  );
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface TaskState {
  node: NodeName;
  container: string;
  image: string;
  health: string;
}

/** Running containers of a service on both nodes, with the image they run and their health. */
export async function serviceContainers(c: Cluster, service: string): Promise<TaskState[]> {
  const out: TaskState[] = [];
  for (const node of ["a", "b"] as const) {
    const ids = (
      await docker(c, node, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`])
    )
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) continue;
    const format =
      "{{.Id}} {{.Config.Image}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";
    const lines = await docker(c, node, ["inspect", "--format", format, ...ids]).catch(() => "");
    for (const line of lines.split("\n").filter(Boolean)) {
      const [id, image, health] = line.split(" ");
      out.push({ node, container: id!.slice(0, 12), image: image!, health: health! });
    }
  }
  return out;
}

/** Polls the engines until `done(tasks)` holds (no event stream covers health across two engines). */
export async function waitForTasks(
  c: Cluster,
  service: string,
  done: (tasks: TaskState[]) => boolean,
  what: string,
  timeoutMs = 180_000,
): Promise<TaskState[]> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskState[] = [];
  while (Date.now() < deadline) {
    last = await serviceContainers(c, service);
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  const ps = await docker(c, "a", ["service", "ps", "--no-trunc", service]).catch((e: Error) => e.message);
  throw new Error(`timed out waiting for ${what}; containers: ${JSON.stringify(last)}\n${ps}`);
}

/** Waits for a rolling update to end; throws at once when Swarm paused or rolled it back. */
export async function waitForUpdate(c: Cluster, service: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = "";
  while (Date.now() < deadline) {
    state = await docker(c, "a", [
      "service",
      "inspect",
      "--format",
      "{{.UpdateStatus.State}} {{.UpdateStatus.Message}}",
      service,
    ]);
    if (state.startsWith("completed")) return;
    if (/^(paused|rollback)/.test(state))
      throw new Error(`the update of ${service} did not complete: ${state}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for the update of ${service}: ${state}`);
}

/** Builds (once per machine) a Redis image from the debootstrap base and Debian's redis-server. */
export async function ensureRedisImage(tag: string): Promise<void> {
  const recipe = "bookworm+redis-server/v1";
  const have = await execa(
    DOCKER,
    ["image", "inspect", "--format", '{{index .Config.Labels "kiln.test.recipe"}}', tag],
    {
      reject: false,
    },
  );
  if (have.exitCode === 0 && have.stdout.trim() === recipe) return;
  const dockerfile = [
    "FROM kiln-test/bookworm",
    "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*",
    "WORKDIR /data",
    `LABEL kiln.test=1 kiln.test.recipe="${recipe}"`,
    'CMD ["redis-server", "--protected-mode", "no"]',
    "",
  ].join("\n");
  await execa(DOCKER, ["build", "--network", "host", "-q", "-t", tag, "-"], {
    input: dockerfile,
    env: { DOCKER_BUILDKIT: "0" },
  });
}

/** Removes a stack and waits until its tasks and network are gone from both nodes. */
export async function removeStack(c: Cluster, stack: string): Promise<void> {
  await docker(c, "a", ["stack", "rm", stack]);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const left: string[] = [];
    for (const node of ["a", "b"] as const) {
      left.push(
        ...(await docker(c, node, ["ps", "-aq", "--filter", `label=com.docker.stack.namespace=${stack}`]))
          .split("\n")
          .filter(Boolean),
      );
      left.push(
        ...(
          await docker(c, node, [
            "network",
            "ls",
            "-q",
            "--filter",
            `label=com.docker.stack.namespace=${stack}`,
          ])
        )
          .split("\n")
          .filter(Boolean),
      );
    }
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`stack ${stack} was not removed within 120 s`);
}
