/**
 * CUDA / cuDNN / PyTorch / TensorFlow compatibility data and the rule that picks a GPU base image.
 * Pure data + pure functions: the build plan calls resolveGpu() and turns its problems into errors.
 */

/** One nvidia/cuda runtime image line we know exists for Ubuntu 22.04, with its cuDNN majors. */
export interface CudaImage {
  /** Full CUDA version as in the image tag, e.g. "12.1.1". */
  cuda: string;
  /** cuDNN major -> exact image tag (nvidia dropped the number from the tag for cuDNN 9 on CUDA >= 12.4). */
  cudnn: Record<string, string>;
}

const CUDA_IMAGES: readonly CudaImage[] = [
  { cuda: "11.7.1", cudnn: { "8": "nvidia/cuda:11.7.1-cudnn8-runtime-ubuntu22.04" } },
  { cuda: "11.8.0", cudnn: { "8": "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04" } },
  { cuda: "12.1.1", cudnn: { "8": "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04" } },
  { cuda: "12.2.2", cudnn: { "8": "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04" } },
  { cuda: "12.3.2", cudnn: { "9": "nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04" } },
  { cuda: "12.4.1", cudnn: { "9": "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04" } },
  { cuda: "12.5.1", cudnn: { "9": "nvidia/cuda:12.5.1-cudnn-runtime-ubuntu22.04" } },
  { cuda: "12.6.3", cudnn: { "9": "nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04" } },
  { cuda: "12.8.1", cudnn: { "9": "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04" } },
  { cuda: "12.9.1", cudnn: { "9": "nvidia/cuda:12.9.1-cudnn-runtime-ubuntu22.04" } },
];

/** Used when nothing pins CUDA: the newest CUDA that current PyTorch wheels target. */
const DEFAULT_CUDA = "12.8";

/**
 * PyTorch minor -> CUDA versions it publishes wheels for (download.pytorch.org cuXYZ), oldest first.
 * Like Cog, an unpinned torch gets the newest of these.
 */
const TORCH_CUDA: Readonly<Record<string, readonly string[]>> = {
  "1.13": ["11.7"],
  "2.0": ["11.7", "11.8"],
  "2.1": ["11.8", "12.1"],
  "2.2": ["11.8", "12.1"],
  "2.3": ["11.8", "12.1"],
  "2.4": ["11.8", "12.1", "12.4"],
  "2.5": ["11.8", "12.1", "12.4"],
  "2.6": ["11.8", "12.4", "12.6"],
  "2.7": ["11.8", "12.6", "12.8"],
  "2.8": ["12.6", "12.8", "12.9"],
};

/** TensorFlow minor -> the one tested CUDA/cuDNN pair (tensorflow.org "tested build configurations"). */
const TENSORFLOW_CUDA: Readonly<Record<string, { cuda: string; cudnn: string }>> = {
  "2.12": { cuda: "11.8", cudnn: "8" },
  "2.13": { cuda: "11.8", cudnn: "8" },
  "2.14": { cuda: "11.8", cudnn: "8" },
  "2.15": { cuda: "12.2", cudnn: "8" },
  "2.16": { cuda: "12.3", cudnn: "9" },
  "2.17": { cuda: "12.3", cudnn: "9" },
  "2.18": { cuda: "12.5", cudnn: "9" },
  "2.19": { cuda: "12.5", cudnn: "9" },
};

/** What a GPU project pins, gathered from cog.yaml and the requirements. */
export interface GpuPins {
  cuda: string | null;
  cudnn: string | null;
  /** e.g. "2.1.0" (local version label stripped). */
  torch: string | null;
  /** From `torch==2.1.0+cu118` or a download.pytorch.org/whl/cu118 index line: "11.8". */
  torchCuda: string | null;
  tensorflow: string | null;
}

/** Which pin a problem is about, so the caller can point at the right file and line. */
export type GpuPinSource = "cuda" | "cudnn" | "torch" | "tensorflow";

export interface GpuProblem {
  source: GpuPinSource;
  message: string;
  hint?: string;
}

export interface GpuResolution {
  cuda: string;
  cudnn: string;
  image: string;
  /** Non-fatal remarks (e.g. a CUDA the torch pin was not published for, within the same major). */
  notes: string[];
}

export type GpuResult = { ok: true; value: GpuResolution } | { ok: false; problems: GpuProblem[] };

const minorOf = (v: string): string => v.split(".").slice(0, 2).join(".");
const majorOf = (v: string): string => v.split(".")[0] ?? v;
const known = (): string => CUDA_IMAGES.map((i) => minorOf(i.cuda)).join(", ");

/** Finds the table image for a CUDA pin written as "12", "12.1" or "12.1.1". */
function findCudaImage(pin: string): CudaImage | undefined {
  const parts = pin.split(".");
  const matching = CUDA_IMAGES.filter((img) => {
    const have = img.cuda.split(".");
    return parts.every((p, i) => have[i] === p);
  });
  return matching[matching.length - 1];
}

/** Picks CUDA + cuDNN for a GPU build, or explains why the pins cannot be satisfied. */
export function resolveGpu(pins: GpuPins): GpuResult {
  const problems: GpuProblem[] = [];
  const notes: string[] = [];
  const tf = pins.tensorflow ? minorOf(pins.tensorflow) : null;
  const torch = pins.torch ? minorOf(pins.torch) : null;
  const tfEntry = tf ? TENSORFLOW_CUDA[tf] : undefined;
  const torchCudas = torch ? TORCH_CUDA[torch] : undefined;

  if (tf && !tfEntry) {
    problems.push({
      source: "tensorflow",
      message: `kiln has no CUDA mapping for tensorflow==${pins.tensorflow}`,
      hint: `Supported TensorFlow versions: ${Object.keys(TENSORFLOW_CUDA).join(", ")} (older ones need CUDA 11.2, which has no Ubuntu 22.04 image). Set build.cuda and build.cudnn, or build.base_image.`,
    });
  }
  if (torch && !torchCudas && !pins.torchCuda) {
    notes.push(
      `kiln does not know which CUDA torch==${pins.torch} was built for; using the default or build.cuda`,
    );
  }

  let cuda: string | null = null;
  if (pins.cuda) {
    const img = findCudaImage(pins.cuda);
    if (!img) {
      problems.push({
        source: "cuda",
        message: `CUDA ${pins.cuda} has no nvidia/cuda runtime image for Ubuntu 22.04 in kiln's table`,
        hint: `Use one of: ${known()}; or set build.base_image to your own CUDA image.`,
      });
    } else cuda = minorOf(img.cuda);
  }

  if (pins.torchCuda) {
    if (cuda && cuda !== pins.torchCuda) {
      problems.push({
        source: "torch",
        message: `torch is pinned to a CUDA ${pins.torchCuda} build but build.cuda is ${pins.cuda}`,
        hint: `Make them agree: set build.cuda: "${pins.torchCuda}" or use the cu${cuda.replace(".", "")} torch wheel.`,
      });
    }
    cuda ??= pins.torchCuda;
  }

  if (torch && torchCudas) {
    if (cuda && !torchCudas.includes(cuda)) {
      const sameMajor = torchCudas.some((c) => majorOf(c) === majorOf(cuda ?? ""));
      if (!sameMajor) {
        problems.push({
          source: "torch",
          message: `torch==${pins.torch} has CUDA wheels for ${torchCudas.join(", ")} only, which contradicts CUDA ${cuda}`,
          hint: `Remove build.cuda to let kiln pick CUDA ${torchCudas[torchCudas.length - 1]}, or pin a torch version built for CUDA ${cuda}.`,
        });
      } else {
        notes.push(
          `torch==${pins.torch} publishes wheels for CUDA ${torchCudas.join(", ")}; CUDA ${cuda} should work (same major) but is untested`,
        );
      }
    }
    cuda ??= torchCudas[torchCudas.length - 1] ?? null;
  }

  if (tfEntry) {
    if (cuda && cuda !== tfEntry.cuda) {
      problems.push({
        source: "tensorflow",
        message: `tensorflow==${pins.tensorflow} needs CUDA ${tfEntry.cuda}, which contradicts CUDA ${cuda}`,
        hint: `TensorFlow is built for exactly one CUDA version; drop the conflicting pin.`,
      });
    }
    cuda ??= tfEntry.cuda;
  }

  cuda ??= DEFAULT_CUDA;
  const img = findCudaImage(cuda);
  if (!img) {
    problems.push({
      source: pins.cuda ? "cuda" : pins.tensorflow ? "tensorflow" : "torch",
      message: `CUDA ${cuda} has no nvidia/cuda runtime image for Ubuntu 22.04 in kiln's table`,
      hint: `Use one of: ${known()}; or set build.base_image.`,
    });
  }
  if (problems.length > 0 || !img) return { ok: false, problems };

  const available = Object.keys(img.cudnn);
  let cudnn: string;
  if (pins.cudnn) {
    cudnn = majorOf(pins.cudnn);
    if (!img.cudnn[cudnn]) {
      return {
        ok: false,
        problems: [
          {
            source: "cudnn",
            message: `cuDNN ${pins.cudnn} is not available for CUDA ${minorOf(img.cuda)} (nvidia/cuda ships cuDNN ${available.join(", ")} for it)`,
            hint: `Remove build.cudnn or choose a CUDA version that ships cuDNN ${cudnn}: ${CUDA_IMAGES.filter(
              (i) => i.cudnn[cudnn],
            )
              .map((i) => minorOf(i.cuda))
              .join(", ")}.`,
          },
        ],
      };
    }
  } else if (tfEntry && img.cudnn[tfEntry.cudnn]) {
    cudnn = tfEntry.cudnn;
  } else {
    cudnn = available[available.length - 1] ?? "8";
  }
  const image = img.cudnn[cudnn] ?? "";
  return { ok: true, value: { cuda: img.cuda, cudnn, image, notes } };
}
