/**
 * A throwaway extra registry (docker-registry from Debian, distribution 2.8) on 127.0.0.1 with a free
 * port, for tests that stop it mid-push or need TLS. The shared ones (5001/5002) must stay up.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export interface ScratchRegistry {
  address: string;
  dir: string;
  /** PEM CA certificate (TLS registries only). */
  caFile: string | undefined;
  start(): Promise<void>;
  /** SIGKILL: the registry dies like a crashed server, mid-request. */
  kill(): Promise<void>;
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      server.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no free port")),
      );
    });
  });
}

export async function scratchRegistry(options: { tls?: boolean } = {}): Promise<ScratchRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-scratch-registry-"));
  const port = await freePort();
  await mkdir(join(dir, "data"));
  let tlsYaml = "";
  let caFile: string | undefined;
  if (options.tls) {
    // Self-signed CA -> server certificate for 127.0.0.1 (IP SAN), as a private registry would have.
    const ssl = (args: string[]): Promise<unknown> => execa("openssl", args, { cwd: dir });
    await ssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=kiln test CA",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    ]);
    await ssl([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
    ]);
    await writeFile(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
    await ssl([
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      "san.ext",
      "-out",
      "server.crt",
    ]);
    caFile = join(dir, "ca.crt");
    tlsYaml = `  tls:\n    certificate: ${join(dir, "server.crt")}\n    key: ${join(dir, "server.key")}\n`;
  }
  await writeFile(
    join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${tlsYaml}`,
  );
  const address = `127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const answers = async (): Promise<boolean> => {
    const scheme = options.tls ? "https" : "http";
    const r = await execa(
      "curl",
      ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", `${scheme}://${address}/v2/`],
      {
        reject: false,
      },
    );
    return r.stdout === "200";
  };

  const registry: ScratchRegistry = {
    address,
    dir,
    caFile,
    async start() {
      child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: "ignore" });
      for (let i = 0; i < 50; i++) {
        if (await answers()) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`scratch registry on ${address} did not start`);
    },
    async kill() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once("exit", () => resolve());
        c.kill("SIGKILL");
      });
    },
    async dispose() {
      await registry.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await registry.start();
  return registry;
}
