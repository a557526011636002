/** Queue mode from the container's environment (KILN_QUEUE etc., see options.ts). */
import type { RunningServer } from "../runtime/server.js";
import { queueFromEnv } from "./options.js";
import { startQueueReplica, type QueueReplica } from "./replica.js";

export async function startReplicaFromEnv(
  server: RunningServer,
  env: NodeJS.ProcessEnv,
): Promise<QueueReplica | null> {
  const q = queueFromEnv(env);
  if (!q) return null;
  return startQueueReplica(server, q);
}
