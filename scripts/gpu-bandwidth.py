#!/usr/bin/env python3
"""GPU figures for docs/benchmarks.md (`ccx gen`'s memory-bandwidth ceiling), run on a machine
with an NVIDIA GPU and PyTorch:

  python3 scripts/gpu-bandwidth.py

Decoding one token reads every weight once, so the ceiling is bandwidth / weight bytes. Prints
JSON: the device, the device-to-device copy bandwidth (bytes read + written), the bandwidth a
batch-1 and a batch-4 (beam) fp16 matrix-vector product reaches over a 1 GiB weight matrix (the
shape of decoding), and whether onnxruntime's CUDA execution provider is installed there.
"""
import json
import shutil
import subprocess

import torch


def timed(fn, repeat=20):
    """Median milliseconds of fn() by CUDA events, after three warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def main():
    dev = torch.device("cuda")
    out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    a = torch.empty(2 * 1024**3, dtype=torch.float16, device=dev)  # 4 GiB
    b = torch.empty_like(a)
    ms = timed(lambda: b.copy_(a), repeat=10)
    out["copy_GBps"] = round(2 * a.numel() * a.element_size() / (ms / 1000) / 1e9, 1)
    del a, b
    weights = torch.randn(65536, 8192, dtype=torch.float16, device=dev)  # 1 GiB
    wbytes = weights.numel() * weights.element_size()
    for batch in (1, 4):
        x = torch.randn(8192, batch, dtype=torch.float16, device=dev)
        ms = timed(lambda: weights @ x, repeat=50)
        out[f"gemv_batch{batch}_GBps"] = round(wbytes / (ms / 1000) / 1e9, 1)
    try:
        import onnxruntime

        out["onnxruntime"] = onnxruntime.__version__
        out["onnxruntime_providers"] = onnxruntime.get_available_providers()
    except ImportError:
        out["onnxruntime"] = None
    out["node"] = (
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("node")
        else None
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
