/**
 * Kubernetes resource quantities ("500m", "2Gi", "1.5G") and their Swarm spellings (cpus "0.5",
 * memory in bytes), so one --cpu/--memory pair sizes both targets the same.
 */
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** "2Gi" -> 2147483648; "512M" -> 512000000; "1000" -> 1000. */
export function memoryBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]{0,2})$/.exec(quantity);
  if (!m) throw new TypeError(`not a memory quantity: ${quantity}`);
  const n = Number(m[1]);
  const unit = m[2] ?? "";
  const factor = unit === "" ? 1 : (BINARY[unit] ?? DECIMAL[unit]);
  if (factor === undefined) throw new TypeError(`unknown memory unit in ${quantity}`);
  return Math.round(n * factor);
}

/** "500m" -> "0.5"; "2" -> "2". */
export function swarmCpus(quantity: string): string {
  if (quantity.endsWith("m")) return String(Number(quantity.slice(0, -1)) / 1000);
  return String(Number(quantity));
}
