import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkConnectionsOnlyWhenBusy } from "../../src/runtime/idle-http.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function listening(): Promise<{ server: Server; port: number }> {
  const s = createServer(
    { headersTimeout: 300, requestTimeout: 600, connectionsCheckingInterval: 50 },
    (_q, r) => r.end("ok"),
  );
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  server = s;
  return { server: s, port: (s.address() as AddressInfo).port };
}

/** Resolves when the server side of the next connection has closed (after the checker's own handler). */
function nextServerClose(s: Server): Promise<void> {
  return new Promise((resolve) =>
    s.once("connection", (sock: Socket) => sock.once("close", () => resolve())),
  );
}

describe("idle HTTP server: Node's connection checks run only while a connection is open", () => {
  it("sleeps when idle, checks again (slowloris still cut off with 408) once a client connects", async () => {
    const { server: s, port } = await listening();
    const checks = checkConnectionsOnlyWhenBusy(s);
    expect(checks.running).toBe(false);

    const closed = nextServerClose(s);
    const sock = connect(port, "127.0.0.1");
    let reply = "";
    sock.on("data", (d) => (reply += d.toString()));
    await new Promise((r) => s.once("connection", r));
    expect(checks.running).toBe(true);
    // Headers never complete: only the re-armed checker can answer 408 and close the connection.
    sock.write("GET / HTTP/1.1\r\nhost: x\r\n");
    await closed;
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(checks.running).toBe(false);
  });

  it("keeps checking while any connection is still open", async () => {
    const { server: s, port } = await listening();
    const checks = checkConnectionsOnlyWhenBusy(s);
    const serverSide: Socket[] = [];
    s.on("connection", (sock: Socket) => serverSide.push(sock));
    const a = connect(port, "127.0.0.1");
    const b = connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => s.on("connection", () => serverSide.length === 2 && resolve()));
    const gone = (sock: Socket): Promise<void> => new Promise((r) => sock.once("close", () => r()));
    a.destroy();
    await Promise.race(serverSide.map(gone));
    expect(checks.running).toBe(true);
    b.destroy();
    await Promise.all(serverSide.map((sock) => (sock.closed ? Promise.resolve() : gone(sock))));
    expect(checks.running).toBe(false);
  });
});
