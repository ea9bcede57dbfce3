"""Token ids for the default encoder from the SentencePiece library (compact: tens of MB, not hundreds).

Two rules turn SentencePiece output into the e5/XLM-R ids: zero-width joiners become spaces first (see
``tokenizer_build.LEGACY_SPACES``), and ids are shifted to fairseq order (<s>=0, <pad>=1, </s>=2,
<unk>=3, piece = SentencePiece id + 1).
"""

from __future__ import annotations

import pathlib

from earful_nlp.tokenizer_build import LEGACY_SPACES, SPM_FILE

BOS, PAD, EOS, UNK = 0, 1, 2, 3
_SPACES = {cp: " " for cp in LEGACY_SPACES}


class SentencePieceIds:
    """Encodes texts to e5 input ids with ``<s>``/``</s>``, truncated to ``max_length``."""

    pad_token_id = PAD

    def __init__(self, model_file: pathlib.Path) -> None:
        import sentencepiece as spm

        self.processor = spm.SentencePieceProcessor(model_file=str(model_file))

    @classmethod
    def from_directory(cls, directory: pathlib.Path) -> SentencePieceIds:
        """Load ``sentencepiece.bpe.model`` of a built encoder directory."""
        return cls(pathlib.Path(directory) / SPM_FILE)

    def encode(self, texts: list[str], max_length: int) -> list[list[int]]:
        """Ids of each text, first ``max_length - 2`` pieces kept, wrapped in ``<s> ... </s>``."""
        pieces = self.processor.encode([text.translate(_SPACES) for text in texts])
        return [[BOS] + [UNK if i == 0 else i + 1 for i in ids[: max_length - 2]] + [EOS] for ids in pieces]
