"""Fashion-MNIST as CNV input: the Debian package's gzip'd IDX files read with gzip + struct,
28x28 images zero-padded to 32x32 (2 pixels each side, as dnnsplit's cnv_input) and the grey
channel replicated three times. Pixel values stay the integers 0..255."""
import gzip
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
SIDE = 28
CNV_SIDE = 32
PAD = (CNV_SIDE - SIDE) // 2


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {zero:#x} {dtype:#x})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {array.size} bytes of data for dims {dims}")
    return array.reshape(dims)


def load(split, directory=DEFAULT_DIR):
    """Returns (images uint8 (N, 28, 28), labels int64 (N,))."""
    prefix = f"{directory}/{'t10k' if split == 'test' else 'train'}"
    images = read_idx(prefix + "-images-idx3-ubyte.gz")
    labels = read_idx(prefix + "-labels-idx1-ubyte.gz").astype(np.int64)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"{prefix}: images {images.shape} do not match labels {labels.shape}")
    return images, labels


def cnv_input(images):
    """uint8 (N, 28, 28) -> uint8 (N, 3, 32, 32), zero border, grey replicated."""
    out = np.zeros((images.shape[0], 3, CNV_SIDE, CNV_SIDE), dtype=np.uint8)
    out[:, :, PAD:PAD + SIDE, PAD:PAD + SIDE] = images[:, None, :, :]
    return out
