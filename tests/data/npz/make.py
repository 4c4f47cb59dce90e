"""Writes the npz files beside this script with NumPy itself, so that tests/readers.rs checks the
reader on files NumPy made (np.savez: stored zip64 entries; np.savez_compressed: deflated), not
only on files written by Rust. Not needed by `cargo test`; run it again only to change the files:

    python3 -m venv /tmp/np && /tmp/np/bin/pip install numpy && /tmp/np/bin/python make.py

Every value is a formula of its flat index, repeated in tests/readers.rs.
"""
import numpy as np


def grid(shape, step, dtype=np.uint8):
    n = int(np.prod(shape))
    return ((np.arange(n) * step) % 256).astype(dtype).reshape(shape)


np.savez(
    "keras-savez.npz",
    x_train=grid((5, 4, 4), 1),
    y_train=np.arange(5, dtype=np.uint8),
    x_test=grid((3, 4, 4), 3),
    y_test=np.array([9, 0, 4], dtype=np.uint8),
)

np.savez_compressed(
    "medmnist-savez-compressed.npz",
    train_images=grid((4, 3, 3, 3), 7),
    train_labels=np.arange(4, dtype=np.int64).reshape(4, 1),
    val_images=grid((2, 3, 3, 3), 11),
    val_labels=np.array([[1], [2]], dtype=np.int64),
    test_images=grid((2, 3, 3, 3), 13),
    test_labels=np.array([[65535], [7]], dtype=np.int64),
)

np.savez(
    "images-fortran-bigendian.npz",
    images=np.asfortranarray(grid((3, 2, 2), 5).astype(">u2")),
)
