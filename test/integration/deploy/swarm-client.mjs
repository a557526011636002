// Runs inside a container on the stack's overlay network (the model image has node) and talks to the
// model replicas the way a proxy on that network would: DNS round robin over the service's task
// addresses, one connection per request. Prints one JSON line when done.
//   node swarm-client.mjs spread SERVICE ROUNDS     one prediction per task address, ROUNDS times
//   node swarm-client.mjs load SERVICE MAX_SECONDS  4 loops until SIGTERM or MAX_SECONDS
//   node swarm-client.mjs queue GATEWAY VERSION:N   N predictions through the gateway's /v1, each
//                                                   polled until it ends (prints SUBMITTED first)
// "refused" counts connections refused before a request was sent (nothing accepted, retried on the
// next address); "failed" counts requests that were sent and did not end in a succeeded prediction.
import { lookup } from "node:dns/promises";
import { request } from "node:http";

const [mode, service, arg] = process.argv.slice(2);
const PORT = 5000;

function v1(host, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: PORT,
        path,
        method,
        agent: false,
        timeout: 30_000,
        headers: { "content-type": "application/json", authorization: "Bearer test", connection: "close" },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function post(address, input) {
  return new Promise((resolve) => {
    let sent = false;
    const req = request(
      {
        host: address,
        port: PORT,
        path: "/predictions",
        method: "POST",
        agent: false,
        timeout: 30_000,
        headers: { "content-type": "application/json", connection: "close" },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ sent: true, status: res.statusCode, body }));
        res.on("error", (err) => resolve({ sent: true, error: err.code ?? err.message }));
      },
    );
    req.on("socket", (s) => s.on("connect", () => (sent = true)));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ sent, error: err.code ?? err.message }));
    req.end(JSON.stringify({ input }));
  });
}

function outcome(r) {
  if (r.error) return r.sent ? { failed: `${r.error}` } : { refused: r.error };
  let body;
  try {
    body = JSON.parse(r.body);
  } catch {
    return { failed: `HTTP ${r.status}: ${r.body.slice(0, 200)}` };
  }
  if (r.status !== 200 || body.status !== "succeeded")
    return { failed: `HTTP ${r.status}: ${r.body.slice(0, 200)}` };
  return { output: JSON.parse(body.output) };
}

async function addresses() {
  return (await lookup(service, { all: true, family: 4 })).map((a) => a.address).sort();
}

if (mode === "spread") {
  const answers = [];
  for (let round = 0; round < Number(arg); round++) {
    for (const address of await addresses()) {
      const o = outcome(await post(address, { text: `spread-${round}` }));
      answers.push({ address, ...o });
    }
  }
  console.log(JSON.stringify({ answers }));
} else if (mode === "load") {
  const summary = { ok: 0, failed: 0, refused: 0, errors: [], revs: {}, hosts: {} };
  let stop = false;
  let next = 0;
  process.on("SIGTERM", () => (stop = true));
  const deadline = Date.now() + Number(arg) * 1000;
  async function loop(worker) {
    let n = 0;
    while (!stop && Date.now() < deadline) {
      const all = await addresses().catch(() => []);
      if (all.length === 0) {
        summary.refused++;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const address = all[next++ % all.length];
      const o = outcome(await post(address, { text: `w${worker}-${n++}`, sleep_ms: 200 }));
      if (o.output) {
        summary.ok++;
        summary.revs[o.output.rev] = (summary.revs[o.output.rev] ?? 0) + 1;
        summary.hosts[o.output.host] = (summary.hosts[o.output.host] ?? 0) + 1;
      } else if (o.refused) {
        summary.refused++;
      } else {
        summary.failed++;
        if (summary.errors.length < 10) summary.errors.push(`${address}: ${o.failed}`);
      }
    }
  }
  console.log("LOAD STARTED");
  await Promise.all([0, 1, 2, 3].map(loop));
  console.log(JSON.stringify(summary));
} else if (mode === "queue") {
  const [version, count] = arg.split(":");
  const ids = [];
  for (let i = 0; i < Number(count); i++) {
    const r = await v1(service, "POST", "/v1/predictions", {
      version,
      input: { text: `q${i}`, sleep_ms: 3000 },
    });
    if (r.status !== 201 && r.status !== 200) throw new Error(`create answered ${r.status}: ${r.body}`);
    ids.push(JSON.parse(r.body).id);
  }
  console.log("SUBMITTED");
  const results = {};
  const deadline = Date.now() + 180_000;
  while (Object.keys(results).length < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      if (results[id]) continue;
      const r = await v1(service, "GET", `/v1/predictions/${id}`).catch((err) => ({
        status: 0,
        body: String(err),
      }));
      if (r.status !== 200) continue;
      const p = JSON.parse(r.body);
      if (["succeeded", "failed", "canceled"].includes(p.status))
        results[id] = {
          status: p.status,
          error: p.error ?? null,
          output: p.output ? JSON.parse(p.output) : null,
        };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const all = ids.map((id) => results[id] ?? { status: "unfinished" });
  console.log(JSON.stringify({ results: all }));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
