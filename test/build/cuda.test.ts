import { describe, expect, it } from "vitest";
import { resolveGpu, type GpuPins } from "../../src/build/cuda.js";
import { findFrameworkPins } from "../../src/build/pins.js";

const pins = (p: Partial<GpuPins>): GpuPins => ({
  cuda: null,
  cudnn: null,
  torch: null,
  torchCuda: null,
  tensorflow: null,
  ...p,
});
const ok = (p: Partial<GpuPins>) => {
  const r = resolveGpu(pins(p));
  if (!r.ok) throw new Error(r.problems.map((x) => x.message).join("; "));
  return r.value;
};
const problems = (p: Partial<GpuPins>): string[] => {
  const r = resolveGpu(pins(p));
  return r.ok ? [] : r.problems.map((x) => x.message);
};

describe("CUDA resolution", () => {
  it("picks the newest CUDA torch publishes wheels for, like Cog", () => {
    expect(ok({ torch: "2.1.0" })).toMatchObject({
      cuda: "12.1.1",
      cudnn: "8",
      image: "nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04",
    });
    expect(ok({ torch: "2.0.1" }).cuda).toBe("11.8.0");
    expect(ok({ torch: "2.5.1" })).toMatchObject({
      cuda: "12.4.1",
      cudnn: "9",
      image: "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04",
    });
  });

  it("honours the CUDA flavour of a +cuXYZ torch pin", () => {
    expect(ok({ torch: "2.3.1", torchCuda: "11.8" }).cuda).toBe("11.8.0");
  });

  it("maps TensorFlow to its one tested CUDA/cuDNN pair", () => {
    expect(ok({ tensorflow: "2.15.0" })).toMatchObject({ cuda: "12.2.2", cudnn: "8" });
    expect(problems({ tensorflow: "2.11.0" })[0]).toMatch(/no CUDA mapping for tensorflow==2.11.0/);
  });

  it("accepts build.cuda pins by prefix and defaults when nothing pins", () => {
    expect(ok({ cuda: "12.6" }).cuda).toBe("12.6.3");
    expect(ok({ cuda: "11.8.0" }).cuda).toBe("11.8.0");
    expect(ok({}).cuda).toBe("12.8.1");
  });

  it("rejects a cuDNN that has no image for the chosen CUDA", () => {
    expect(problems({ cuda: "12.4", cudnn: "8" })[0]).toBe(
      "cuDNN 8 is not available for CUDA 12.4 (nvidia/cuda ships cuDNN 9 for it)",
    );
    expect(ok({ cuda: "12.1", cudnn: "8" }).image).toBe("nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04");
  });

  it("rejects torch pins that contradict build.cuda", () => {
    expect(problems({ cuda: "12.4", torch: "2.1.0", torchCuda: "11.8" })[0]).toMatch(
      /CUDA 11.8 build but build.cuda is 12.4/,
    );
    expect(problems({ cuda: "12.1", torch: "1.13.1" })[0]).toMatch(
      /torch==1.13.1 has CUDA wheels for 11.7 only/,
    );
    expect(problems({ cuda: "10.2" })[0]).toMatch(/CUDA 10.2 has no nvidia\/cuda runtime image/);
  });

  it("only notes a same-major CUDA that torch did not publish wheels for", () => {
    const r = ok({ cuda: "12.6", torch: "2.1.0" });
    expect(r.cuda).toBe("12.6.3");
    expect(r.notes[0]).toMatch(/should work \(same major\)/);
  });
});

describe("framework pins in requirements", () => {
  it("finds torch, its cuXYZ flavour, index URLs and tensorflow with line numbers", () => {
    const p = findFrameworkPins(
      "numpy\n--extra-index-url https://download.pytorch.org/whl/cu121\ntorch==2.2.0  # gpu\ntensorflow[and-cuda]==2.15.1\n",
    );
    expect(p.torch).toEqual({ version: "2.2.0", line: 3 });
    expect(p.torchCuda).toEqual({ version: "12.1", line: 2 });
    expect(p.tensorflow).toEqual({ version: "2.15.1", line: 4 });
    expect(findFrameworkPins(null, ["torch==2.3.1+cu118"]).torchCuda?.version).toBe("11.8");
    expect(findFrameworkPins("torchvision==0.18.0\n").torch).toBeNull();
  });
});
