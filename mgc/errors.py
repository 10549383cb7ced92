"""The exceptions of mgc: one for input a person gave us, one for a dataset folder."""


class MgcError(Exception):
    """Base class of every error mgc raises on purpose."""


class AudioError(MgcError):
    """The input cannot be classified: not audio, empty, damaged, silent, too short.

    The message is written for the person who gave the input and says what to do about it.
    """


class DatasetError(MgcError):
    """A GTZAN folder is missing or lacks a part that a command needs."""


class CheckpointError(MgcError):
    """A trained model asked for is not in the checkpoints folder, or is unreadable."""
