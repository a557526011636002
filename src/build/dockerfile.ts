/**
 * BuildPlan -> Dockerfile text. Pure and deterministic (golden-file tested). Only instructions the
 * built-in BuildKit frontend of Docker 20.10 understands: RUN --mount=type=cache|secret, COPY --from,
 * COPY --chmod. No `# syntax=` line: that frontend image cannot be pulled offline.
 *
 * The build context (see context.ts) is laid out as:
 *   src/              project code (after .dockerignore, without weights)
 *   kiln/runtime/kiln/ the kiln runtime bundle + entrypoint.sh     -> /kiln/ (rooted at /)
 *   kiln/weights/N/   weights group N, rooted at / (src/<path>)     -> /
 *   kiln/trained/     kiln build --weights, rooted at / (kiln/weights/<name>) -> /
 *   kiln/ca.crt       --ca-cert
 */
import { formatBytes } from "../format.js";
import type { BuildPlan } from "./plan.js";
import { UV_IMAGE } from "./plan.js";
import type { RunCommand } from "../manifest/types.js";

const CA_PATH = "/usr/local/share/ca-certificates/kiln-extra-ca.crt";
const BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const APT_CACHE =
  "--mount=type=cache,target=/var/cache/apt,sharing=locked \\\n    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked";

/** Single-quotes a word for /bin/sh. */
function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Double-quotes a Dockerfile ENV/LABEL value (the frontend expands $ and \ inside quotes). */
function dfQuote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$").replace(/\n/g, "\\n")}"`;
}

function env(vars: Record<string, string>): string {
  const entries = Object.entries(vars);
  return `ENV ${entries.map(([k, v]) => `${k}=${dfQuote(v)}`).join(" \\\n    ")}`;
}

function aptInstall(packages: string[], withTini: boolean): string {
  const list = packages.map(shQuote).join(" ");
  const tini = withTini
    ? `pkgs="${list}"; command -v tini >/dev/null 2>&1 || pkgs="$pkgs tini"; \\\n    `
    : "";
  const pkgs = withTini ? "$pkgs" : list;
  return `RUN ${APT_CACHE} \\\n    ${tini}rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update -qq && \\\n    apt-get install -y --no-install-recommends ${pkgs}`;
}

function caSteps(plan: BuildPlan): string[] {
  if (!plan.caCert) return [];
  return [
    "# Extra CA (--ca-cert): trusted by apt, pip, npm and node, during the build and at run time",
    `COPY kiln/ca.crt ${CA_PATH}`,
    `RUN if command -v update-ca-certificates >/dev/null 2>&1; then update-ca-certificates; \\\n    else mkdir -p /etc/ssl/certs && cat ${CA_PATH} >> ${BUNDLE}; fi`,
    env({
      SSL_CERT_FILE: BUNDLE,
      REQUESTS_CA_BUNDLE: BUNDLE,
      PIP_CERT: BUNDLE,
      NODE_EXTRA_CA_CERTS: CA_PATH,
    }),
  ];
}

function runStep(r: RunCommand): string {
  const mounts = r.mounts.map((m) => `--mount=type=secret,id=${m.id},target=${m.target}`);
  const prefix = mounts.length > 0 ? `RUN ${mounts.join(" \\\n    ")} \\\n    ` : "RUN ";
  // Multi-line scripts keep their newlines through the JSON exec form of sh -c.
  if (r.command.includes("\n")) return `${prefix}${JSON.stringify(["/bin/sh", "-c", r.command])}`;
  return `${prefix}${r.command}`;
}

function npmStage(plan: BuildPlan): string[] {
  if (!plan.npm) return [];
  const ca = plan.caCert ? ["COPY kiln/ca.crt /kiln-ca.crt", "ENV NODE_EXTRA_CA_CERTS=/kiln-ca.crt"] : [];
  return [
    "# npm dependencies, installed with the node image's npm from the lock file",
    `FROM ${plan.nodeImage} AS kiln-npm`,
    ...ca,
    "WORKDIR /src",
    `COPY src/package.json src/${plan.npm.lockFile} ./`,
    // A node image without npm (a minimal or offline base) fails with the fix, not "npm: not found".
    `RUN command -v npm >/dev/null || { echo "kiln: ${plan.nodeImage} has no npm to install ${plan.npm.lockFile}: pass --node-image with an image that has npm (the default node:<major>-bookworm-slim has it)" >&2; exit 1; }`,
    "RUN --mount=type=cache,target=/root/.npm \\\n    --mount=type=secret,id=npmrc,target=/root/.npmrc \\\n    npm ci --omit=dev --no-audit --no-fund && mkdir -p node_modules",
    "",
  ];
}

function pythonSteps(plan: BuildPlan): string[] {
  const py = plan.python;
  if (!py) return [];
  const out: string[] = [];
  if (py.install === "apt") {
    out.push(
      `# Python ${py.version}: Ubuntu 22.04's own python3`,
      `${aptInstall(["python3", "python3-pip", "python3-venv"], false)} && \\\n    ln -sf /usr/bin/python3 /usr/local/bin/python`,
    );
  } else if (py.install === "uv") {
    out.push(
      `# Python ${py.version}: a standalone CPython (python-build-standalone via uv), no PPA needed`,
      `COPY --from=${UV_IMAGE} /uv /usr/local/bin/uv`,
      "ENV UV_PYTHON_INSTALL_DIR=/opt/kiln/python",
      `RUN --mount=type=cache,target=/root/.cache/uv \\\n    uv python install ${py.version} && uv venv --seed --python ${py.version} /opt/kiln/venv`,
      "ENV VIRTUAL_ENV=/opt/kiln/venv PATH=/opt/kiln/venv/bin:$PATH",
    );
  }
  const pipSecret =
    "--mount=type=cache,target=/root/.cache/pip \\\n    --mount=type=secret,id=pip_index_url \\\n    " +
    'if [ -f /run/secrets/pip_index_url ]; then export PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)"; fi && \\\n    ';
  if (plan.requirements) {
    out.push(
      `COPY ${shQuote(`src/${plan.requirements}`)} /tmp/kiln/requirements.txt`,
      `RUN ${pipSecret}python3 -m pip install -r /tmp/kiln/requirements.txt`,
    );
  }
  if (plan.pythonPackages.length > 0) {
    out.push(`RUN ${pipSecret}python3 -m pip install ${plan.pythonPackages.map(shQuote).join(" ")}`);
  }
  return out;
}

function weightsSteps(plan: BuildPlan): string[] {
  const out: string[] = [];
  const total = plan.weights.length;
  for (const g of plan.weights) {
    const shown = g.files.slice(0, 3).map((f) => f.path);
    const more = g.files.length > 3 ? ` and ${g.files.length - 3} more` : "";
    out.push(
      `# weights ${g.index + 1}/${total}: ${shown.join(", ")}${more} (${formatBytes(g.bytes)})`,
      `COPY kiln/weights/${g.index}/ /`,
    );
  }
  return out;
}

/** The Dockerfile split where kiln splits the build: dependencies + weights + runtime, then code. */
function renderDockerfileParts(plan: BuildPlan): { deps: string[]; code: string[] } {
  const lines: string[] = [
    "# Generated by kiln (`kiln dockerfile` prints it). Layers: base, system packages, dependencies,",
    "# weights, kiln runtime, code: a code-only change rebuilds only the last layer.",
    ...npmStage(plan),
    `FROM ${plan.baseImage}`,
    env({
      DEBIAN_FRONTEND: "noninteractive",
      PYTHONUNBUFFERED: "1",
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PIP_ROOT_USER_ACTION: "ignore",
    }),
    ...caSteps(plan),
  ];
  if (plan.copyNode) lines.push(`COPY --from=${plan.nodeImage} /usr/local/bin/node /usr/local/bin/node`);
  if (plan.systemPackages.length > 0) lines.push(aptInstall(plan.systemPackages, true));
  else {
    lines.push(
      "# tini as PID 1 when the base image lacks it and has apt",
      "RUN command -v tini >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || \\\n    " +
        "(apt-get update -qq && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*)",
    );
  }
  lines.push(...pythonSteps(plan));
  if (plan.npm) lines.push("COPY --from=kiln-npm /src/node_modules /src/node_modules");
  if (Object.keys(plan.environment).length > 0) lines.push(env(plan.environment));
  lines.push(...plan.run.map(runStep));
  lines.push(...weightsSteps(plan));
  if (plan.trainedWeights) {
    const t = plan.trainedWeights;
    lines.push(
      `# trained weights (kiln build --weights): ${t.target} (${formatBytes(t.bytes)}), named by COG_WEIGHTS`,
      "COPY kiln/trained/ /",
    );
  }
  lines.push("COPY kiln/runtime/ /");
  if (plan.python) {
    lines.push(
      "# kiln's Python worker compiled once here, not by every container start (~30 ms and ~1.5 MB each)",
      "RUN PYTHONHASHSEED=0 python3 /kiln/python/kiln_compile.py",
    );
  }
  const code = [
    // PYTHONPATH: `import cog` (and `python -m cog.server.http`) find kiln's cog package in the image.
    env({ KILN_ROOT: "/src", ...(plan.python ? { PYTHONPATH: "/kiln/python" } : {}), ...plan.runtimeEnv }),
    "WORKDIR /src",
    "COPY src/ /src/",
    "EXPOSE 5000",
    'ENTRYPOINT ["/kiln/entrypoint.sh"]',
    // A 1 MB young generation: a busy server's heap grows by a few MB, not tens (bench/memory.mjs);
    // the server passes the flag on to a node worker.
    'CMD ["node", "--max-semi-space-size=1", "/kiln/server.mjs"]',
  ];
  return { deps: lines, code };
}

/** The whole Dockerfile, as one file (what `kiln dockerfile` prints). */
export function renderDockerfile(plan: BuildPlan): string {
  const { deps, code } = renderDockerfileParts(plan);
  return `${[...deps, ...code].join("\n")}\n`;
}

/**
 * The two documents `kiln build` runs: the dependencies image (everything up to the runtime bundle),
 * reused while its inputs are unchanged, and the code stage built FROM it with a code-only context.
 */
export function renderBuildStages(plan: BuildPlan, depsImage: string): { deps: string; code: string } {
  const parts = renderDockerfileParts(plan);
  return {
    deps: `${parts.deps.join("\n")}\n`,
    code: `# Code stage: built FROM the dependencies image, with a context holding only the code.\nFROM ${depsImage}\n${parts.code.join("\n")}\n`,
  };
}
