/**
 * How an orchestrator asks a model replica whether it is ready, shared by both renderers.
 *   file: the server writes /var/run/cog/ready once setup succeeded (as Cog does) and removes it when it
 *         starts draining; `test -f` is cheap and needs nothing but coreutils in the image.
 *   http: GET /health-check answers {"status": ...}; READY and BUSY count as ready. Runs node -e (every
 *         kiln image has node) so it also works for images whose server does not write the file.
 */
import type { Readiness } from "./options.js";

const READY_FILE = "/var/run/cog/ready";
/** Setup (weights loading) may take this long before failed checks count against a replica. */
export const SETUP_GRACE_SECONDS = 600;

const HEALTH_SCRIPT =
  'fetch("http://127.0.0.1:"+(process.env.PORT||5000)+"/health-check",{signal:AbortSignal.timeout(4000)})' +
  '.then(r=>r.json()).then(b=>process.exit(b.status==="READY"||b.status==="BUSY"?0:1),()=>process.exit(1))';

/** The command (exec form) that exits 0 when the replica may take predictions. */
export function readinessCommand(readiness: Readiness): string[] {
  return readiness === "file" ? ["test", "-f", READY_FILE] : ["node", "-e", HEALTH_SCRIPT];
}
