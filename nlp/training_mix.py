"""The sentiment training mixture of the default model: which files, how many rows of each per pass, how much
each row counts, and which rows carry binary labels.

A pass draws every row of the core files (tweets in 8 languages, Swedish forum posts, Persian reviews) and a
fresh slice of each large extra file (``sentiment/extra/``), so that no language or source dominates and
later passes see rows earlier ones did not. Sources the data README calls noisy count less; the binary
Mozetic and AJGT rows (no neutral class) have their neutral logit masked (see ``training.RowTreatment``);
Mozetic's es, sq and pt are left out (many neutral headlines labelled positive, some labels inverted).
"""

from __future__ import annotations

import dataclasses
import html
import pathlib
import random
import re
from collections import Counter, defaultdict

from earful_nlp.datasets import LabeledData, read_labeled_csv, split_labeled
from earful_nlp.labels import SENTIMENT_LABELS

SENTIPERS_TRAIN = "sentiment/sentipers_fa_train.csv"
SENTIPERS_HELD_OUT_FRACTION = 0.15
SENTIPERS_SPLIT_SEED = 13  # the split every earful model card has reported on


@dataclasses.dataclass(frozen=True)
class MixSource:
    """One training file and how the mixture draws from it."""

    path: str  # relative to the shared data folder
    per_pass: int | None = None  # rows drawn per pass (None: all of them)
    weight: float = 1.0  # loss weight of each row
    binary: bool = False  # labels negative / positive only ("positive" = "not negative")
    drop_langs: tuple[str, ...] = ()
    by_language: bool = False  # draw per_pass evenly over the file's languages


DEFAULT_MIX: tuple[MixSource, ...] = (
    MixSource("sentiment/xlmt_train.csv"),
    MixSource("sentiment/absabank_imm_sv_train.csv"),
    MixSource(SENTIPERS_TRAIN),  # minus its held-out part (sentipers_parts)
    MixSource("sentiment/extra/semeval2013_2016_en.csv", per_pass=5000),
    MixSource("sentiment/extra/marsa_ar.csv", per_pass=4000, weight=0.8),
    MixSource("sentiment/extra/astd_ar.csv", per_pass=1000, weight=0.5),
    MixSource("sentiment/extra/afrisenti_dz_ma_pt.csv", per_pass=3000),
    MixSource("sentiment/extra/sentimix_hinglish.csv", per_pass=4000),
    MixSource("sentiment/extra/ajgt_ar.csv", per_pass=600, weight=0.5, binary=True),
    MixSource(
        "sentiment/extra/mozetic2016_15lang.csv",
        per_pass=10000,
        weight=0.5,
        binary=True,
        drop_langs=("es", "sq", "pt"),
        by_language=True,
    ),
)


@dataclasses.dataclass
class MixedRows:
    """The drawn training rows with what the loss needs about each."""

    data: LabeledData
    weights: list[float]
    binary: list[bool]
    sources: list[str]

    def counts(self) -> dict[str, int]:
        """Rows drawn per source file."""
        return dict(Counter(self.sources))


_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|@\w+", re.IGNORECASE)


def normalized(text: str) -> str:
    """A text's comparison form for dropping the same tweet found in two files."""
    text = _URL_OR_HANDLE.sub(" ", html.unescape(text).lower())
    text = re.sub(r"^\s*rt\b", " ", text)
    return " ".join(text.split()).strip(" .,!?:;\"'")


def sentipers_parts(data_dir: pathlib.Path) -> tuple[LabeledData, LabeledData]:
    """SentiPers' training part and its stratified 15 % held-out part (the same split as ``earful split-data``)."""
    full = read_labeled_csv(data_dir / SENTIPERS_TRAIN, SENTIMENT_LABELS)
    return split_labeled(full, SENTIPERS_HELD_OUT_FRACTION, SENTIPERS_SPLIT_SEED)


def _slice(rows: list, per_pass: int, pass_index: int) -> list:
    """The ``pass_index``-th slice of ``per_pass`` rows of an already shuffled list, wrapping around."""
    if per_pass >= len(rows):
        return list(rows)
    start = (pass_index * per_pass) % len(rows)
    picked = rows[start : start + per_pass]
    return picked + rows[: per_pass - len(picked)]


def draw_mixture(
    data_dir: pathlib.Path,
    passes: int,
    seed: int,
    sources: tuple[MixSource, ...] = DEFAULT_MIX,
    max_rows: int | None = None,
) -> MixedRows:
    """All rows of ``passes`` passes over ``sources`` (read from ``data_dir``), reproducible for ``seed``.

    ``max_rows`` keeps an evenly spread sample of that many rows (for quick trial runs).
    """
    rng = random.Random(seed)  # noqa: S311 - seeded sampling of training rows, not a secret
    texts: list[str] = []
    labels: list[str] = []
    langs: list[str] = []
    weights: list[float] = []
    binary: list[bool] = []
    names: list[str] = []
    seen: set[str] = set()
    for source in sources:
        if source.path == SENTIPERS_TRAIN:
            data = sentipers_parts(data_dir)[0]
        else:
            data = read_labeled_csv(data_dir / source.path, SENTIMENT_LABELS)
        rows = list(zip(data.texts, data.labels, data.langs, strict=True))
        # The same tweet in two files is kept once (SemEval repeats 2,054 of xlmt's English tweets).
        rows = [r for r in rows if r[2] not in source.drop_langs and normalized(r[0]) not in seen]
        seen.update(normalized(r[0]) for r in rows)
        groups: dict[str, list] = defaultdict(list)
        for row in rows:
            groups[row[2] if source.by_language else ""].append(row)
        for group in groups.values():
            rng.shuffle(group)
        for pass_index in range(passes):
            for group in groups.values():
                share = source.per_pass // len(groups) if source.per_pass else len(group)
                for text, label, lang in _slice(group, share, pass_index):
                    texts.append(text)
                    labels.append(label)
                    langs.append(lang)
                    weights.append(source.weight)
                    binary.append(source.binary)
                    names.append(pathlib.Path(source.path).stem)
    keep = list(range(len(texts)))
    if max_rows is not None and max_rows < len(keep):
        keep = sorted(rng.sample(keep, max_rows))
    return MixedRows(
        LabeledData(texts, labels, langs).subset(keep),
        [weights[i] for i in keep],
        [binary[i] for i in keep],
        [names[i] for i in keep],
    )
