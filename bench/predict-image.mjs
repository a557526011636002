// `kiln predict IMAGE` on a warm image (the hello-ts example), wall time split into phases from
// `kiln --debug` timings (boot, prepare, container start, to READY, prediction, teardown), beside the
// ceilings measured in the same rounds: `node -e 0`, `kiln --version` (the CLI's own start) and
// `docker run --rm IMAGE true` (create, start, wait and remove a container of the same image, with
// nothing in it). Also `kiln predict` in the project directory (builds, all layers cached).
// Needs the Docker engine and the offline base images (scripts/test-env.sh).
// Writes bench/results/predict-image.md.
// With --baseline REF (e.g. main) the same rounds also run the CLI of that git revision (exported with
// `git archive`, built the same way) against the same image: a before/after in one run.
// Usage: node bench/predict-image.mjs [--rounds 7] [--baseline REF]
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  freePortInRange,
  buildDist,
  exportRevision,
  kilnCli,
  loadNote,
  median,
  option,
  removeBenchImage,
  spread,
  writeResults,
} from "./lib.mjs";
import { root } from "./server-lib.mjs";

const ROUNDS = Number(option("rounds", "7"));
const BASELINE = option("baseline", undefined);
const DOCKER = process.env.KILN_DOCKER_CLI ?? "/usr/bin/docker";
const IMAGE = `${process.env.KILN_BENCH_IMAGE_PREFIX ?? "kiln-bench-"}predict-image:${process.pid}`;
const run = promisify(execFile);
// As in coldstart.mjs: a machine-wide NODE_EXTRA_CA_CERTS (~40 ms of CPU per node start) is unset for
// every row, ceilings and the baseline included.
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;

// Every kiln run prints its own CPU time as it exits (bench/fixtures/cpu-at-exit.cjs).
const CPU_ENV = { NODE_OPTIONS: `--require ${join(root, "bench/fixtures/cpu-at-exit.cjs")}` };

function timingsOf(stderr) {
  const line = stderr.split("\n").find((l) => l.includes("timings (ms):"));
  if (!line) throw new Error(`no timings in:\n${stderr}`);
  const t = JSON.parse(line.slice(line.indexOf("{")));
  // --debug also relays the container's output: kiln's server logs `ready` with its own figure (seconds
  // from its node process's start), which splits the `ready` phase into the server's start and the
  // rest (the container's processes before node's, and the ready line's way to the CLI).
  const server = serverReadyMs(stderr);
  return { ...t, cpu: cpuOf(stderr), server, beforeServer: t.ready - server };
}

/** The server's own start-to-READY figure from its `ready` line, in ms (NaN when absent). */
function serverReadyMs(stderr) {
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{") || !line.includes('"msg":"ready"')) continue;
    const seconds = JSON.parse(line).since_start_s;
    if (typeof seconds === "number") return Math.round(seconds * 1000);
  }
  return NaN;
}

/** The kiln process's CPU time: the last report (node processes kiln starts would print theirs first). */
function cpuOf(stderr) {
  const all = [...stderr.matchAll(/bench-cpu-ms: (\d+)/g)];
  return all.length > 0 ? Number(all.at(-1)[1]) : NaN;
}

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * kiln's server started in a container of IMAGE with `nodeArgs` before its path, to its ready line:
 * { cpu, since } in ms, cpu being every process of the container (its cgroup v1 cpuacct, read just
 * after READY: an idle server uses none) and since the server's own since_start_s. Undefined without
 * cgroup v1 accounting. Compares the image's command (with --max-semi-space-size=1) with the one
 * `kiln predict` runs, without the CLI in between.
 */
async function serverStart(nodeArgs) {
  const port = await freePortInRange(55000, 55500);
  const args = ["run", "-d", "--label", "kiln.bench=1", "--network", "host", "-e", `PORT=${port}`];
  const id = (
    await run(DOCKER, [...args, IMAGE, "node", ...nodeArgs, "/kiln/server.mjs", "--host", "127.0.0.1"])
  ).stdout.trim();
  try {
    const usage = `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`;
    if (!existsSync(usage)) return undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { stdout } = await run(DOCKER, ["logs", id]);
      const line = stdout.split("\n").find((l) => l.includes('"msg":"ready"'));
      if (line) {
        const cpu = Number(readFileSync(usage, "utf8")) / 1e6;
        return { cpu, since: JSON.parse(line).since_start_s * 1000 };
      }
      if (Date.now() > deadline) throw new Error(`no ready line from ${id}:\n${stdout}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await run(DOCKER, ["rm", "-f", id]);
  }
}

const project = mkdtempSync(join(tmpdir(), "kiln-bench-predict-"));
let baselineDir;

async function main() {
  const note = [`before: ${loadNote()}`];
  await buildDist(root);
  if (BASELINE) baselineDir = await exportRevision(root, BASELINE);
  cpSync(join(root, "examples", "hello-ts"), project, { recursive: true });
  writeFileSync(
    join(project, "cog.yaml"),
    `build:\n  node_version: 20\n  base_image: kiln-test/node\npredict: "predict.ts:predictor"\nimage: ${IMAGE}\n`,
  );
  const warm = await kilnCli(
    root,
    ["predict", "--node-image", "kiln-test/node", "--progress", "quiet", "-i", "name=warm"],
    project,
  );
  if (warm.code !== 0) throw new Error(`warm-up failed:\n${warm.stderr}`);

  const modes = {
    image: ["--debug", "predict", IMAGE, "-i", "name=bench"],
    project: [
      "--debug",
      "predict",
      "--node-image",
      "kiln-test/node",
      "--progress",
      "quiet",
      "-i",
      "name=bench",
    ],
  };
  const ceilings = { node: [], version: [], versionCpu: [], dockerRun: [] };
  const starts = { image: [], oneRequest: [] };
  const samples = { image: [], project: [], baseline: [] };
  for (let r = 0; r < ROUNDS; r++) {
    ceilings.node.push(await timed(() => run(process.execPath, ["-e", "0"])));
    const version = await kilnCli(root, ["--version"], project, CPU_ENV);
    ceilings.version.push(version.wall);
    ceilings.versionCpu.push(cpuOf(version.stderr));
    ceilings.dockerRun.push(
      await timed(() =>
        run(DOCKER, ["run", "--rm", "--label", "kiln.bench=1", "--network", "host", IMAGE, "true"]),
      ),
    );
    const withFlag = await serverStart(["--max-semi-space-size=1"]);
    const without = await serverStart([]);
    if (withFlag && without) {
      starts.image.push(withFlag);
      starts.oneRequest.push(without);
    }
    for (const [mode, args] of Object.entries(modes)) {
      const res = await kilnCli(root, args, project, CPU_ENV);
      if (res.code !== 0 || res.stdout !== "Hello, bench!\n")
        throw new Error(`run failed (${res.code}):\n${res.stderr}`);
      const t = timingsOf(res.stderr);
      samples[mode].push({ ...t, wall: res.wall, exit: res.wall - t.total });
    }
    if (BASELINE) {
      const res = await kilnCli(baselineDir, modes.image, project, CPU_ENV);
      if (res.code !== 0 || res.stdout !== "Hello, bench!\n")
        throw new Error(`baseline run failed (${res.code}):\n${res.stderr}`);
      const t = timingsOf(res.stderr);
      samples.baseline.push({ ...t, wall: res.wall, exit: res.wall - t.total });
    }
  }
  note.push(`after: ${loadNote()}`);
  // This run's containers only (its image): other benchmarks on the machine use the label too.
  const left = (
    await run(DOCKER, ["ps", "-aq", "--filter", "label=kiln.bench=1", "--filter", `ancestor=${IMAGE}`])
  ).stdout.trim();

  const phases = [
    "boot",
    "prepare",
    "start",
    "ready",
    "server",
    "beforeServer",
    "predict",
    "teardown",
    "exit",
    "wall",
    "cpu",
  ];
  const col = (mode, key) => {
    const xs = samples[mode].map((s) => s[key]).filter((x) => !Number.isNaN(x));
    return xs.length > 0 ? spread(xs) : "n/a";
  };
  const ratio = (mode) => (median(samples[mode].map((s) => s.wall)) / median(ceilings.dockerRun)).toFixed(2);
  const md = [
    "# `kiln predict IMAGE` on a warm image",
    "",
    `Generated by \`node bench/predict-image.mjs --rounds ${ROUNDS}${BASELINE ? ` --baseline ${BASELINE}` : ""}\` on ${new Date().toISOString()}.`,
    "",
    `Machine: ${note.join("; ")}. Rounds are interleaved (ceilings and both modes once per round).` +
      (EXTRA_CA
        ? ` NODE_EXTRA_CA_CERTS (${EXTRA_CA}) was set on this machine and is unset for all rows.`
        : ""),
    "",
    "## Ceilings (same rounds)",
    "",
    "| what | ms, median (min–max) |",
    "|---|---|",
    `| \`node -e 0\` | ${spread(ceilings.node)} |`,
    `| \`kiln --version\` (CLI start) | ${spread(ceilings.version)} |`,
    `| \`kiln --version\`, CPU (user + system) of the process | ${spread(ceilings.versionCpu)} |`,
    `| \`docker run --rm IMAGE true\` (container create, start, wait, remove) | ${spread(ceilings.dockerRun)} |`,
    "",
    "## kiln's server in the container, to READY (same rounds, without the CLI)",
    "",
    "The image's command runs `node --max-semi-space-size=1 /kiln/server.mjs`; `kiln predict` (one",
    "request) drops the flag, which, as any V8 option on node's command line, makes node load its",
    "built-in modules without their code cache. CPU: all the container's processes (cgroup), a figure",
    "load inflates far less than the wall time (since_start_s).",
    "",
    "| command | CPU to READY, ms | server's since_start_s, ms |",
    "|---|---|---|",
    ...(starts.image.length > 0
      ? [
          `| the image's (with the flag) | ${spread(starts.image.map((x) => x.cpu))} | ${spread(starts.image.map((x) => x.since))} |`,
          `| \`kiln predict\`'s (without) | ${spread(starts.oneRequest.map((x) => x.cpu))} | ${spread(starts.oneRequest.map((x) => x.since))} |`,
        ]
      : ["| (no cgroup v1 CPU accounting on this engine: not measured) | | |"]),
    "",
    "## Phases (`kiln --debug` timings), ms, median (min–max)",
    "",
    "boot: process start to the command's first line; prepare: inputs, engine, image inspection (or build);",
    "start: container create + start; ready: to READY; server: of which the server's own start to READY",
    "(its `since_start_s`, from its node process's start); beforeServer: ready minus server (the",
    "container's processes before node's start and the ready line's way to the CLI; below 0 when node",
    "started before the engine's answer to the start call reached the CLI); predict: the",
    "prediction; teardown: container removal (it starts as the answer is in, while outputs are written);",
    "exit: the end of the command to the process exit; wall: as the shell sees it; cpu: the kiln",
    "process's own CPU time (user + system), which a busy machine inflates far less than wall time.",
    "",
    `| phase | \`kiln predict IMAGE\` |${BASELINE ? ` same, ${BASELINE}'s CLI |` : ""} \`kiln predict\` (project, cached build) |`,
    `|---|---|${BASELINE ? "---|" : ""}---|`,
    ...phases.map(
      (p) =>
        `| ${p} | ${col("image", p)} |${BASELINE ? ` ${col("baseline", p)} |` : ""} ${col("project", p)} |`,
    ),
    "",
    `\`kiln predict IMAGE\`: ${Math.round(median(samples.image.map((s) => s.wall)))} ms wall, ` +
      `${Math.round(median(samples.image.map((s) => s.cpu)))} ms of CLI CPU` +
      (BASELINE ? ` (${BASELINE}'s CLI: ${Math.round(median(samples.baseline.map((s) => s.cpu)))} ms)` : "") +
      ", " +
      `${ratio("image")}× \`docker run --rm IMAGE true\` ` +
      "(goal: ≤ 500 ms wall)" +
      (BASELINE
        ? `; ${BASELINE}'s CLI on the same image: ${Math.round(median(samples.baseline.map((x) => x.wall)))} ms, ` +
          `${ratio("baseline")}× \`docker run --rm IMAGE true\` ` +
          `(this one takes ${(median(samples.image.map((x) => x.wall)) / median(samples.baseline.map((x) => x.wall))).toFixed(2)}× its time).`
        : "."),
    "",
    `Containers left behind: ${left ? left.split("\n").length : 0}.`,
    "",
  ];
  writeResults(root, "predict-image", md);
}

try {
  await main();
} finally {
  rmSync(project, { recursive: true, force: true });
  if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
  removeBenchImage(IMAGE, DOCKER);
}
