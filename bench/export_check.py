#!/usr/bin/env python3
"""Checks `mlp export` against Python's own runtimes, by hand (not part of `cargo test`).

Exports MODEL with `mlp export --onnx --torch` into a temporary directory, runs `mlp eval --json` on
MNIST's test set, then runs the README's Python snippets (taken from README.md's `## mlp export
MODEL` section, word for word) on the same 10,000 raw digits: the onnxruntime one, and the PyTorch
one when torch is installed. Prints each one's accuracy (the largest logit, as mlp eval counts;
for ONNX also the largest probability) beside mlp's, and the largest difference between the two
runtimes' logits; exits 1 when an accuracy differs from mlp eval's.

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install numpy onnxruntime onnx safetensors torch
    /tmp/export-venv/bin/python bench/export_check.py model.bin [--mlp target/release/mlp] [--data DIR]

--data is the MNIST directory (default ../shared/data/mnist); the model must be an MNIST model.
"""

import argparse
from contextlib import chdir
import gzip
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent


def idx(path):
    """The array in an IDX file, gzip or raw."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    # A writable copy, as arrays loaded any other way are (torch warns about read-only ones).
    return np.frombuffer(bytearray(data), dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(directory, stem):
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    sys.exit(f"export_check.py: no {stem} in {directory}")


def readme_snippets():
    """The Python code blocks of README.md's `## mlp export MODEL` section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## mlp export MODEL", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--mlp", default=str(ROOT / "target/release/mlp"))
    parser.add_argument("--data", default=str(ROOT / "../shared/data/mnist"))
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    model = pathlib.Path(args.model).resolve()

    images = idx(find(data, "t10k-images-idx3-ubyte")).reshape(10000, -1)
    labels = idx(find(data, "t10k-labels-idx1-ubyte"))
    evaluation = json.loads(
        subprocess.run(
            [args.mlp, "eval", str(model), "--data-dir", str(data), "--json"],
            check=True, capture_output=True, text=True,
        ).stdout
    )
    expected = evaluation["correct"]
    print(f"{model.name}: mlp eval {expected}/{len(labels)} ({expected / len(labels):.2%})")

    with tempfile.TemporaryDirectory() as work:
        work = pathlib.Path(work)
        subprocess.run(
            [args.mlp, "export", str(model), "--onnx", str(work / "model.onnx"),
             "--torch", str(work / "model.safetensors"), "--json"],
            check=True, capture_output=True,
        )
        try:
            import onnx
            onnx.checker.check_model(onnx.load(str(work / "model.onnx")), full_check=True)
            print("onnx.checker: the graph is valid ONNX (full check, shapes inferred)")
        except ImportError:
            print("onnx.checker: not run (no onnx package)")

        snippets = readme_snippets()
        logits = {}
        failed = False
        for name, snippet in zip(["onnxruntime", "torch"], snippets):
            if name == "torch":
                try:
                    import torch  # noqa: F401
                except ImportError:
                    print("torch: not run (no torch package)")
                    continue
            # The snippets name their files as the README does, so they run where those are.
            namespace = {"__name__": name}
            with chdir(work):
                exec(compile(snippet, f"README.md ({name} snippet)", "exec"), namespace)
                logits[name] = np.asarray(namespace["logits"](images), dtype=np.float64)
            correct = int((logits[name].argmax(axis=1) == labels).sum())
            same = "the same as" if correct == expected else "NOT"
            print(f"{name}: README snippet {correct}/{len(labels)} ({correct / len(labels):.2%}), {same} mlp eval")
            failed |= correct != expected
            if "probabilities" in namespace:
                with chdir(work):
                    probabilities = namespace["probabilities"](images)
                by_probability = int((probabilities.argmax(axis=1) == labels).sum())
                print(f"{name}: the largest probability is right for {by_probability}/{len(labels)}")
                failed |= by_probability != expected
        if len(logits) == 2:
            difference = np.abs(logits["onnxruntime"] - logits["torch"]).max()
            print(f"largest |onnxruntime - torch| over the logits of 10,000 digits: {difference:.2e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
