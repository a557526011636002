/**
 * The webhook inspector's receiver, started by `kiln playground` on its own port (a model server refuses
 * webhooks to itself). POST /hooks/BIN records a delivery (headers and body as received); GET
 * /hooks/BIN/events streams a bin's deliveries (SSE, replayed first) to the page; GET /hooks/BIN lists
 * them as JSON. Bins are random ids the page makes. Memory is bounded: deliveries per bin, bins,
 * body size.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  seq: number;
  received_at: string;
  headers: Record<string, string>;
  body: string;
}

export interface ReceiverLimits {
  maxBodyBytes: number;
  perBin: number;
  bins: number;
}

const DEFAULT_RECEIVER_LIMITS: ReceiverLimits = { maxBodyBytes: 1024 * 1024, perBin: 200, bins: 64 };

interface Bin {
  deliveries: Delivery[];
  seq: number;
  listeners: Set<ServerResponse>;
}

export interface WebhookReceiver {
  url: string;
  server: Server;
  deliveries(bin: string): Delivery[];
  close(): Promise<void>;
}

const BIN = /^[A-Za-z0-9_-]{8,64}$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startWebhookReceiver(
  opts: {
    host?: string;
    port?: number;
    limits?: Partial<ReceiverLimits>;
  } = {},
): Promise<WebhookReceiver> {
  const limits = { ...DEFAULT_RECEIVER_LIMITS, ...opts.limits };
  const bins = new Map<string, Bin>();
  const binFor = (id: string): Bin => {
    let bin = bins.get(id);
    if (!bin) {
      if (bins.size >= limits.bins) {
        // Forget the oldest bin (Map keeps insertion order), closing its viewers.
        const [oldest, old] = bins.entries().next().value as [string, Bin];
        for (const l of old.listeners) l.end();
        bins.delete(oldest);
      }
      bin = { deliveries: [], seq: 0, listeners: new Set() };
      bins.set(id, bin);
    }
    return bin;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The page reads bins from another origin; a bin id is the only key to its deliveries.
    res.setHeader("access-control-allow-origin", "*");
    const url = new URL(req.url ?? "/", "http://receiver");
    const m = /^\/hooks\/([^/]+)(\/events)?\/?$/.exec(url.pathname);
    if (!m || !BIN.test(m[1]!)) {
      send(res, 404, { detail: "use POST /hooks/BIN (BIN: 8-64 letters, digits, - or _)" });
      return;
    }
    const id = m[1]!;
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "*",
      });
      res.end();
      return;
    }
    if (req.method === "POST" && !m[2]) {
      const body = await readBody(req, limits.maxBodyBytes);
      if (body === null) {
        send(res, 413, { detail: `webhook body over ${limits.maxBodyBytes} bytes` });
        return;
      }
      const bin = binFor(id);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
      const d: Delivery = {
        seq: ++bin.seq,
        received_at: new Date().toISOString(),
        headers,
        body: body.toString("utf8"),
      };
      bin.deliveries.push(d);
      if (bin.deliveries.length > limits.perBin) bin.deliveries.shift();
      for (const l of bin.listeners) l.write(`event: delivery\nid: ${d.seq}\ndata: ${JSON.stringify(d)}\n\n`);
      send(res, 200, {});
      return;
    }
    if (req.method === "GET" && m[2]) {
      const bin = binFor(id);
      const after = Number(req.headers["last-event-id"] ?? 0) || 0;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": kiln webhook receiver\n\n");
      for (const d of bin.deliveries)
        if (d.seq > after) res.write(`event: delivery\nid: ${d.seq}\ndata: ${JSON.stringify(d)}\n\n`);
      bin.listeners.add(res);
      res.on("close", () => bin.listeners.delete(res));
      return;
    }
    if (req.method === "GET") {
      send(res, 200, { deliveries: bins.get(id)?.deliveries ?? [] });
      return;
    }
    res.setHeader("allow", m[2] ? "GET" : "GET, POST");
    send(res, 405, { detail: "Method Not Allowed" });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { detail: "receiver error" });
      else res.destroy();
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    server,
    deliveries: (bin) => bins.get(bin)?.deliveries ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const bin of bins.values()) for (const l of bin.listeners) l.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
