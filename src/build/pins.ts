/** Reads framework pins (torch, tensorflow, their CUDA flavour) out of requirements lines. Pure. */

export interface Pin {
  version: string;
  /** 1-based line in the requirements file, 0 for python_packages entries. */
  line: number;
}

export interface FrameworkPins {
  torch: Pin | null;
  /** "11.8" from `torch==2.1.0+cu118` or an index URL ending in /whl/cu118. */
  torchCuda: Pin | null;
  tensorflow: Pin | null;
}

const REQ =
  /^\s*(torch|tensorflow|tensorflow-gpu|tensorflow_gpu)\s*(?:\[[^\]]*\])?\s*(==|~=|>=|===)\s*([0-9][0-9a-zA-Z.+]*)/;
const CU_TAG = /\+cu(\d{2,3})\b/;
const CU_INDEX = /download\.pytorch\.org\/whl\/cu(\d{2,3})\b/;

/** "118" -> "11.8", "121" -> "12.1". */
function cuTagToVersion(tag: string): string {
  return `${tag.slice(0, tag.length - 1)}.${tag.slice(-1)}`;
}

/** Scans requirements text (and the deprecated python_packages list) for framework pins. */
export function findFrameworkPins(
  requirements: string | null,
  packages: readonly string[] = [],
): FrameworkPins {
  const pins: FrameworkPins = { torch: null, torchCuda: null, tensorflow: null };
  const lines: [string, number][] = [
    ...(requirements ?? "").split(/\r?\n/).map((l, i): [string, number] => [l, i + 1]),
    ...packages.map((p): [string, number] => [p, 0]),
  ];
  for (const [raw, line] of lines) {
    const text = raw.replace(/\s+#.*$/, "");
    const index = CU_INDEX.exec(text);
    if (index?.[1] && !pins.torchCuda) pins.torchCuda = { version: cuTagToVersion(index[1]), line };
    const m = REQ.exec(text);
    if (!m?.[1] || !m[3]) continue;
    const [version, local] = m[3].split("+");
    if (!version) continue;
    if (m[1] === "torch") {
      pins.torch = { version, line };
      const cu = local ? CU_TAG.exec(`+${local}`) : null;
      if (cu?.[1]) pins.torchCuda = { version: cuTagToVersion(cu[1]), line };
    } else {
      pins.tensorflow = { version, line };
    }
  }
  return pins;
}
