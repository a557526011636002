/**
 * An idle server must not wake up. Node's HTTP server enforces headersTimeout/requestTimeout (the
 * slowloris guards) with an interval, connectionsCheckingInterval, that ticks even while no connection
 * is open: once a second here. `checkConnectionsOnlyWhenBusy` stops that interval when the last
 * connection closes and starts it again with the next one, so a server nobody talks to sleeps.
 *
 * The interval is Node's own (a Timeout under a symbol of the server). Should a Node version keep it
 * elsewhere, nothing is changed and the server simply keeps Node's behaviour.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

const INTERVAL_KEY = "http.server.connectionsCheckingInterval";

export interface ConnectionChecks {
  /** Whether Node's connection checks are running now (false: the server is idle and asleep). */
  readonly running: boolean;
}

/** Call once the server listens (Node creates the interval on 'listening'). */
export function checkConnectionsOnlyWhenBusy(server: Server): ConnectionChecks {
  const unchanged = { running: true };
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === INTERVAL_KEY);
  if (!key) return unchanged;
  const slot = server as unknown as Record<symbol, NodeJS.Timeout | undefined>;
  const timer = slot[key] as unknown as { _onTimeout?: unknown; _idleTimeout?: unknown } | undefined;
  const tick = timer?._onTimeout;
  const ms = timer?._idleTimeout;
  if (typeof tick !== "function" || typeof ms !== "number" || ms <= 0) return unchanged;
  const check = tick as () => void;
  let open = 0;
  let paused = false;
  const pause = (): void => {
    clearInterval(slot[key]);
    paused = true;
  };
  server.on("connection", (socket: Socket) => {
    open++;
    if (paused) {
      // server.close() clears whatever sits in the slot, so the new interval goes there too.
      slot[key] = setInterval(check, ms).unref();
      paused = false;
    }
    socket.once("close", () => {
      if (--open === 0 && server.listening) pause();
    });
  });
  pause();
  return {
    get running() {
      return !paused;
    },
  };
}
