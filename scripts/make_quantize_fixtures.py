#!/usr/bin/env python3
"""Generate the embedding-quantization fixture of leafbench (tests/fixtures/compress/quantize.json).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_quantize_fixtures.py

src/compress/quantize.rs must reproduce two reference implementations byte for byte:

  * sentence_transformers.quantization.quantize_embeddings (ST 6.2.0, numpy arithmetic) for the
    precisions int8 / uint8 / binary / ubinary / float32, with the ranges taken from the embeddings
    themselves, from separate `calibration_embeddings`, or given as `ranges=`; plus ST's private
    `_dequantize_embeddings` (the mapping used when it rescores scalar-quantized candidates);
  * mteb.models.CompressionWrapper._quantize_embeddings (torch arithmetic) for float16 / bfloat16 /
    int8 / uint8 / int4 / uint4 / binary, with and without `clipping_margin`.

float16 and bfloat16 conversions (not offered by quantize_embeddings) come from numpy's
astype(float16) and torch's .to(bfloat16); both round to nearest, ties to even.

Encoding: input floats are JSON *strings* holding Python's repr of the float32 value widened to
float64 (exact; parse with str::parse::<f64> and narrow with `as f32`, which is exact here).
Integer outputs are plain JSON integers; float outputs are given as their IEEE bit patterns
(u16 for float16/bfloat16, u32 for float32) so the comparison is bit for bit, and "nan"
never needs a string form. The matrices are row-major; "rows" and "dim" give the shape.
"""

import json
import math
import os
import platform
import warnings

import numpy as np
import torch
import sentence_transformers
from sentence_transformers.util.quantization import quantize_embeddings, _dequantize_embeddings
import mteb
from mteb.models import CompressionWrapper
from mteb.types import OutputDType

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "fixtures", "compress")

warnings.simplefilter("ignore")  # "few embeddings" calibration warnings are expected here
import logging

logging.disable(logging.WARNING)


def f(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    return repr(x)


def mat(a):
    a = np.asarray(a)
    return {"rows": int(a.shape[0]), "dim": int(a.shape[1]), "values": [f(x) for x in a.reshape(-1)]}


def ints(a):
    return [int(x) for x in np.asarray(a).reshape(-1)]


def f32_bits(a):
    return ints(np.ascontiguousarray(np.asarray(a, dtype=np.float32)).view(np.uint32))


def u16_bits_torch(t):
    return ints(t.contiguous().view(torch.int16).numpy().view(np.uint16))


def make_inputs():
    rng = np.random.default_rng(20240611)
    inputs = {}

    # A: 12 x 20 normal-ish, with exact zeros (+0.0 and -0.0), a constant dimension, values exactly
    # at -1 / 1 (the fixed calibration bounds) and values outside [-1, 1].
    a = (rng.standard_normal((12, 20)) * 0.6).astype(np.float32)
    a[0, 0] = 0.0
    a[1, 0] = -0.0
    a[2, 3] = 0.0
    a[:, 5] = np.float32(0.37)  # constant dimension: max - min == 0
    a[3, 7] = -1.0
    a[4, 7] = 1.0
    a[5, 8] = 1.0
    a[6, 9] = -1.0
    a[7, 10] = 1.7
    a[8, 11] = -2.3
    a[9, :] = 0.0  # an all-zero row
    a[:, 5] = np.float32(0.37)  # (the constant dimension survives the zero row)
    inputs["A"] = a

    # B: 7 x 13 uniform in [-1, 1] (odd dimension: packbits padding, odd int4 packing), exact zeros,
    # a constant-zero dimension.
    b = rng.uniform(-1.0, 1.0, (7, 13)).astype(np.float32)
    b[:, 4] = 0.0
    b[2, 1] = 0.0
    b[0, 12] = -0.0
    inputs["B"] = b

    # C: 40 x 8 normalized rows (like a real embedding model's output), 8 = one packed byte.
    c = rng.standard_normal((40, 8)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    inputs["C"] = c.astype(np.float32)

    # Calibration sets: separate embeddings (narrower than the data, so clipping at 0 / 255 happens).
    cal = {}
    cal["A"] = (rng.standard_normal((30, 20)) * 0.4).astype(np.float32)
    cal["B"] = rng.uniform(-0.8, 0.8, (5, 13)).astype(np.float32)
    cal["B"][:, 6] = 0.25  # constant in the calibration set only
    cal["C"] = rng.standard_normal((9, 8)).astype(np.float32) * 0.3
    # Explicit per-dimension ranges as float64 (ST casts them to float32 itself).
    rng_ranges = {}
    for k, v in inputs.items():
        d = v.shape[1]
        lo = -0.5 - rng.uniform(0.0, 1.0, d)
        hi = 0.5 + rng.uniform(0.0, 1.0, d)
        lo[0] = 0.1  # 0.1 is not a float32: tests the float64 -> float32 cast
        hi[0] = 0.7
        rng_ranges[k] = np.vstack((lo, hi))
    return inputs, cal, rng_ranges


def st_cases(inputs, cal, ranges):
    cases = []
    for name, emb in inputs.items():
        d = emb.shape[1]
        fixed = np.vstack((np.full(d, -1.0), np.full(d, 1.0)))
        calibrations = [
            ("from_embeddings", {}, {"kind": "from_embeddings"}),
            ("calibration_embeddings", {"calibration_embeddings": cal[name]},
             {"kind": "embeddings", "embeddings": mat(cal[name])}),
            ("ranges", {"ranges": ranges[name]},
             {"kind": "ranges", "min": [f(x) for x in ranges[name][0]], "max": [f(x) for x in ranges[name][1]]}),
            ("fixed_-1_1", {"ranges": fixed}, {"kind": "fixed", "min": "-1.0", "max": "1.0"}),
        ]
        for precision in ["int8", "uint8"]:
            for cname, kwargs, cdesc in calibrations:
                q = quantize_embeddings(emb, precision=precision, **kwargs)
                assert q.dtype == (np.int8 if precision == "int8" else np.uint8)
                # the ranges quantize_embeddings used, for the dequantization check
                if "ranges" in kwargs:
                    used = kwargs["ranges"]
                else:
                    src = kwargs.get("calibration_embeddings", emb)
                    used = np.vstack((src.min(axis=0), src.max(axis=0)))
                deq = _dequantize_embeddings(q, precision, used)
                assert deq.dtype == np.float64
                cases.append({
                    "input": name, "precision": precision, "calibration": cdesc,
                    "expected": ints(q),
                    "dequantized_f64": [f(x) for x in deq.reshape(-1)],
                })
        # int4 is leafbench's own level (not in sentence-transformers): the uint8 recipe with
        # 15 steps, codes 0..15 packed two per byte, high nibble first. This numpy version of
        # the definition pins the arithmetic (f32, floor, clip) and the packing.
        for cname, kwargs, cdesc in calibrations:
            if "ranges" in kwargs:
                used = kwargs["ranges"]
            else:
                src = kwargs.get("calibration_embeddings", emb)
                used = np.vstack((src.min(axis=0), src.max(axis=0)))
            r32 = used.astype(np.float32)
            starts = r32[0]
            steps = (r32[1] - starts) / 15
            steps = np.where(steps == 0, 1, steps)
            assert steps.dtype == np.float32
            codes = np.clip(np.floor((emb - starts) / steps), 0, 15).astype(np.uint8)
            deq = codes.astype(np.float64) * steps + starts
            if d % 2:
                codes = np.pad(codes, ((0, 0), (0, 1)))
            packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
            cases.append({
                "input": name, "precision": "int4", "calibration": cdesc,
                "generator": "numpy reference of leafbench's int4 definition",
                "expected": ints(packed),
                "dequantized_f64": [f(x) for x in deq.reshape(-1)],
            })
        for precision in ["binary", "ubinary"]:
            q = quantize_embeddings(emb, precision=precision)
            assert q.dtype == (np.int8 if precision == "binary" else np.uint8)
            assert q.shape == (emb.shape[0], (d + 7) // 8)
            cases.append({"input": name, "precision": precision, "calibration": {"kind": "from_embeddings"},
                          "expected": ints(q)})
        q = quantize_embeddings(emb, precision="float32")
        cases.append({"input": name, "precision": "float32", "calibration": {"kind": "from_embeddings"},
                      "expected_bits": f32_bits(q)})
    return cases


def half_cases(inputs):
    out = []
    extra = np.array([[65504.0, 65520.0, 1e-8, -6.1e-5, 3.0e-8, 1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, -2.5e38,
                       3.4e38, 1.0 + 2.0**-8, 1.0 + 3 * 2.0**-8, 5.9604645e-08]]).astype(np.float32)
    for name, emb in list(inputs.items()) + [("extra", extra)]:
        f16 = emb.astype(np.float16)
        bf16 = torch.from_numpy(emb).to(torch.bfloat16)
        out.append({"input": name, "values": mat(emb) if name == "extra" else None,
                    "float16_bits": ints(f16.view(np.uint16)),
                    "bfloat16_bits": u16_bits_torch(bf16)})
    return out


def mteb_quantize(emb, level, clipping_margin):
    w = CompressionWrapper.__new__(CompressionWrapper)
    w._quantization_level = level
    w.clipping_margin = None if clipping_margin is None else torch.tensor(clipping_margin)
    w.min_embeds = 10_000
    return w._quantize_embeddings(torch.from_numpy(emb.copy()))


def mteb_cases(inputs):
    cases = []
    levels = [OutputDType.FLOAT16, OutputDType.BF16, OutputDType.INT8, OutputDType.UINT8,
              OutputDType.INT4, OutputDType.UINT4, OutputDType.BINARY]
    for name, emb in inputs.items():
        for level in levels:
            margins = [None]
            if level in (OutputDType.INT8, OutputDType.UINT8, OutputDType.INT4, OutputDType.UINT4):
                margins += [(0.05, 0.95), (0.1, 0.9), (0.01, 0.99), (0.3, 0.7)]
            for m in margins:
                out = mteb_quantize(emb, level, m)
                case = {"input": name, "level": level.value,
                        "clipping_margin": None if m is None else [f(np.float32(x)) for x in m],
                        "dtype": str(out.dtype)}
                if out.dtype == torch.float16:
                    case["expected_bits"] = u16_bits_torch(out)
                else:
                    assert out.dtype == torch.float32, out.dtype
                    case["expected_bits"] = f32_bits(out.numpy())
                cases.append(case)
    try:
        mteb_quantize(inputs["A"], OutputDType.FLOAT32, None)
        float32_supported = True
    except ValueError:
        float32_supported = False
    return cases, float32_supported


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs, cal, ranges = make_inputs()
    mcases, f32_ok = mteb_cases(inputs)
    doc = {
        "provenance": {
            "generator": "scripts/make_quantize_fixtures.py",
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
            "mteb": mteb.__version__,
            "float_encoding": "inputs: repr strings of float32 values (parse f64, narrow to f32); "
                              "outputs: integers, or IEEE bit patterns for float outputs",
        },
        "inputs": {k: mat(v) for k, v in inputs.items()},
        "sentence_transformers": st_cases(inputs, cal, ranges),
        "half": half_cases(inputs),
        "mteb": mcases,
        "mteb_float32_supported": f32_ok,
    }
    path = os.path.join(OUT, "quantize.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=0)
        fh.write("\n")
    print(f"wrote {path}: {len(doc['sentence_transformers'])} ST cases, {len(mcases)} MTEB cases")


if __name__ == "__main__":
    main()
