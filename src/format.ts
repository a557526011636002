/** Human-readable figures shared by the CLI's output, build notes and Dockerfile comments. */

/** Binary units with one decimal ("512 B", "1.5 KiB", "300.0 MiB"): the one byte format kiln prints. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
