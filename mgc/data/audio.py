"""The one audio loader: any file or bytes a person may give us → mono float32 at 22050 Hz.

Decoding goes through libsndfile (wav, flac, ogg/vorbis, opus, mp3, aiff, au …) and, for what it
cannot read (m4a/AAC and others), through an `ffmpeg` on the PATH when there is one. Everything is
decoded in memory: a path is only ever opened for reading (block by block, never whole), and uploaded
bytes never touch the disk (ffmpeg reads them from an in-memory file). Nothing is written anywhere.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from ..errors import AudioError

SAMPLE_RATE = 22050
MIN_SECONDS = 1.0
MAX_SECONDS = 600.0
"""Longer input is analysed over its first 10 minutes only (and the result says so): this keeps
time and memory bounded for an hour-long upload (10 min ≈ 53 MB of float32 at 22050 Hz)."""
SILENCE_PEAK_DBFS = -60.0
"""Input whose loudest sample is below this is treated as silent: a spectrogram scaled to its own
loudest bin would otherwise turn hiss into full-scale pictures."""
HEAD_BYTES = 65536
"""How much of the input is read up front: enough for any header we look at ourselves."""
BLOCK_SAMPLES = 1 << 16
"""Samples (frames × channels) decoded at a time: 256 kB of float32 whatever the channel count, and
what is lost of a file that libsndfile cannot decode past a damaged spot is at most one block."""
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 768000
"""Rates outside these are not recordings but damaged headers: 1 Hz would make a 3-s file last
18 hours, 10 MHz would make it last a millisecond."""


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for a representation: mono float32 samples at `SAMPLE_RATE`."""

    samples: np.ndarray
    sample_rate: int
    source_seconds: float
    """Duration of the whole input, before any cut to MAX_SECONDS."""
    source_sample_rate: int
    source_channels: int
    notices: tuple[str, ...] = ()
    """What the person should know about a file that decoded with trouble (it ends early, it is damaged)."""

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def truncated(self) -> bool:
        return self.source_seconds > self.seconds + 0.5


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"'{Path(source).name}'"
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return f"'{Path(name).name}'"
    return "the uploaded data"


_NOT_AUDIO = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a document packed as one)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
)
"""Leading bytes of common files that people rename by mistake, and what to call them."""

_UNINFORMATIVE_DECODER_MESSAGES = (
    "Format not recognised",
    "File does not exist or is not a regular file",  # libsndfile's words for unrecognised in-memory data
    "SF_INFO struct incomplete",
    "Unspecified internal error",
)


@dataclass
class _Input:
    """What `load_audio` was given, opened for reading only: a path, a file object or bytes."""

    name: str
    head: bytes
    """The first `HEAD_BYTES` bytes."""
    path: Path | None = None
    file: object = None
    data: bytes | None = None

    def for_libsndfile(self):
        if self.path is not None:
            return str(self.path)
        if self.file is not None:
            self.file.seek(0)
            return self.file
        return io.BytesIO(self.data)

    def all_bytes(self) -> bytes:
        """The whole input, for ffmpeg; only for bytes and file objects (ffmpeg reads a path itself)."""
        if self.data is None:
            self.file.seek(0)
            return self.file.read()
        return self.data


def _open_input(source) -> _Input:
    """Check that `source` can be read and read its head; never writes, never reads a whole path."""
    name = _describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return _Input(name, data[:HEAD_BYTES], data=data)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            exists, is_dir, is_file = path.exists(), path.is_dir(), path.is_file()
        except (OSError, ValueError):
            exists = is_dir = is_file = False
        if not exists:
            raise AudioError(f"there is no file {path}: check the name and the folder")
        if is_dir:
            raise AudioError(
                f"{path} is a folder, not an audio file: give one audio file "
                "(`python -m mgc predict` takes a whole folder)"
            )
        if not is_file:  # a device or a named pipe: reading it could block or never end
            raise AudioError(f"{path} is not a regular file (a device or a pipe?): give an audio file")
        try:
            with open(path, "rb") as f:
                head = f.read(HEAD_BYTES)
        except PermissionError:
            raise AudioError(f"{name} cannot be read: permission denied") from None
        except OSError as error:
            raise AudioError(f"{name} cannot be read: {error.strerror or error}") from None
        return _Input(name, head, path=path)
    if hasattr(source, "read"):
        seekable = getattr(source, "seekable", lambda: False)()
        if seekable and source.tell() == 0:
            head = source.read(HEAD_BYTES)
            source.seek(0)
            if isinstance(head, str):
                raise AudioError("expected binary audio data, got text: open the file with 'rb'")
            return _Input(name, bytes(head), file=source)
        data = source.read()
        if isinstance(data, str):
            raise AudioError("expected binary audio data, got text: open the file with 'rb'")
        data = bytes(data)
        return _Input(name, data[:HEAD_BYTES], data=data)
    raise AudioError(f"cannot read audio from a {type(source).__name__}; give a path, bytes or a binary file")


def _not_audio_kind(head: bytes, text: bool) -> str | None:
    """'a PNG image', … when the leading bytes say what the input is instead of audio.

    With `text`, also 'a text file' for mostly printable UTF-8: only once decoding has failed, since an
    mp3's ID3 tag can begin with kilobytes of printable lyrics.
    """
    for magic, kind in _NOT_AUDIO:
        if head.startswith(magic):
            return kind
    if not text:
        return None
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 3:  # only a character cut at the end of the sample is forgiven
            return None
        text = sample[: error.start].decode("utf-8")
    if text and sum(c.isprintable() or c in "\n\r\t" for c in text) >= 0.98 * len(text):
        return "a text file"
    return None


@dataclass
class _WavHeader:
    channels: int
    rate: int
    bits: int
    block_align: int
    data_bytes: int | None
    """The data chunk's declared size, None when the head ends before it."""


def _read_wav_header(head: bytes) -> _WavHeader | None:
    """The fmt and data chunks of a RIFF/WAVE head as declared (not checked), or None if it is not one."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    order = ">" if head[:4] == b"RIFX" else "<"
    header, position = None, 12
    while position + 8 <= len(head):
        chunk = head[position : position + 4]
        size = struct.unpack_from(order + "I", head, position + 4)[0]
        if chunk == b"fmt ":
            if position + 24 > len(head):
                return None
            channels, rate, _, block_align, bits = struct.unpack_from(order + "HIIHH", head, position + 10)
            header = _WavHeader(channels, rate, bits, block_align, None)
        elif chunk == b"data":
            if header is not None:
                header.data_bytes = size
            return header
        position += 8 + size + (size & 1)
    return header


def _wav_header_problem(head: bytes) -> str | None:
    """What is wrong with a RIFF/WAVE header that libsndfile refuses without saying why, if anything."""
    header = _read_wav_header(head)
    if header is None:
        return None
    if header.channels == 0:
        return "its header declares 0 channels"
    if header.rate == 0:
        return "its header declares a sample rate of 0 Hz"
    if header.bits == 0:
        return "its header declares 0 bits per sample"
    return None


def _promised_seconds(head: bytes) -> float | None:
    """How long a wav's header says it is; None where it does not say (streamed wavs write ~4 GB or 0)."""
    header = _read_wav_header(head)
    if header is None or not (header.data_bytes and header.block_align and header.rate):
        return None
    if header.data_bytes >= 0xFFFF0000:
        return None
    return header.data_bytes / header.block_align / header.rate


def _decoder_message(error: Exception) -> str:
    text = re.sub(r"^Error opening .*?: ", "", str(error).strip())
    if any(phrase in text for phrase in _UNINFORMATIVE_DECODER_MESSAGES):
        return ""
    return text


def _formats() -> str:
    return "wav, flac, ogg, opus, mp3" + (" or m4a" if shutil.which("ffmpeg") else " (m4a needs ffmpeg installed)")


class _MonoBuffer:
    """Mono samples appended block by block into one array, so the end result is not copied again."""

    def __init__(self, capacity: int):
        self.array = np.empty(max(capacity, 1), dtype=np.float32)
        self.length = 0

    def append(self, block: np.ndarray) -> None:
        end = self.length + len(block)
        if end > len(self.array):
            grown = np.empty(max(end, 2 * len(self.array)), dtype=np.float32)
            grown[: self.length] = self.array[: self.length]
            self.array = grown
        self.array[self.length : end] = block
        self.length = end

    def samples(self) -> np.ndarray:
        if self.length < 0.9 * len(self.array):
            return self.array[: self.length].copy()  # let a generous first guess go
        return self.array[: self.length]


@dataclass
class _Decoded:
    mono: np.ndarray
    """float32 at SAMPLE_RATE."""
    source_rate: int
    source_channels: int
    source_seconds: float
    channel_peak: float
    """Loudest sample of any channel before mixing: tells channels that cancel out from silence."""
    damaged: bool = False
    """Decoding stopped at damage part-way through; `mono` is what came before it."""


def _invalid_samples(name: str, samples: np.ndarray) -> AudioError:
    what = "NaN" if np.isnan(samples).any() else "infinity"
    return AudioError(
        f"{name} contains invalid samples ({what}): the file is damaged; export it again from the original"
    )


def _check_rate(name: str, rate: int) -> None:
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name} declares a sample rate of {rate:,} Hz, which no recording uses "
            f"({MIN_SAMPLE_RATE:,}–{MAX_SAMPLE_RATE:,} Hz): its header is probably damaged; export it again"
        )


def _may_go_to_the_mp3_decoder(given: _Input) -> bool:
    """libsndfile tries mp3 on data that starts like mp3, and on any path named like mp3."""
    head = given.head
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return True
    return given.path is not None and given.path.suffix.lower() in (".mp3", ".mp2", ".mpga", ".mpeg")


_silence_lock = threading.Lock()
_silence_depth = 0
_saved_stderr: int | None = None


@contextmanager
def _native_stderr_silenced():
    """Send what C libraries print on the process's stderr (fd 2) to /dev/null while decoding.

    libsndfile's mp3 decoder (libmpg123) prints notes there for damaged or fake mp3 data
    ("Illegal Audio-MPEG-Header …"), which would land between a command's output and our own,
    clearer message. The redirection is process-wide, so concurrent decodes share one (counted).
    """
    global _silence_depth, _saved_stderr
    with _silence_lock:
        if _silence_depth == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
                _saved_stderr = saved
            except (OSError, ValueError, AttributeError):
                _saved_stderr = None
        _silence_depth += 1
    try:
        yield
    finally:
        with _silence_lock:
            _silence_depth -= 1
            if _silence_depth == 0 and _saved_stderr is not None:
                os.dup2(_saved_stderr, 2)
                os.close(_saved_stderr)
                _saved_stderr = None


def _decode_libsndfile(given: _Input, max_seconds: float) -> _Decoded:
    """Decode with libsndfile, quietly for mp3 (see `_native_stderr_silenced`)."""
    if _may_go_to_the_mp3_decoder(given):
        with _native_stderr_silenced():
            return _decode_blocks(given, max_seconds)
    return _decode_blocks(given, max_seconds)


def _decode_blocks(given: _Input, max_seconds: float) -> _Decoded:
    """Decode block by block, mixing to mono and resampling as we go: memory stays near the output's size."""
    with soundfile.SoundFile(given.for_libsndfile()) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        _check_rate(given.name, rate)
        limit = int(max_seconds * rate)
        expected = min(frames, limit) if frames > 0 else limit
        out = _MonoBuffer(int(expected * SAMPLE_RATE / rate) + 256)
        resampler = None
        if rate != SAMPLE_RATE:
            import soxr

            resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        block_frames = max(1, BLOCK_SAMPLES // channels)
        done, peak, damaged = 0, 0.0, False
        while done < limit:
            try:
                block = f.read(frames=min(block_frames, limit - done), dtype="float32", always_2d=True)
            except (soundfile.LibsndfileError, RuntimeError):
                if done == 0:
                    raise
                damaged = True  # keep what decoded before the damage; load_audio may do better with ffmpeg
                break
            if len(block) == 0:
                break
            if not np.isfinite(block).all():
                raise _invalid_samples(given.name, block)
            peak = max(peak, float(np.max(np.abs(block))))
            # The channels' mean as a product with equal weights: numpy's mean over a short row axis is
            # ~20 ms per 30 s of stereo; this is ~0, and bit-identical for two channels (×0.5 is exact).
            mono = block[:, 0] if channels == 1 else block @ np.full(channels, 1 / channels, dtype=np.float32)
            if not np.isfinite(mono).all():  # finite samples can still overflow when channels are summed
                raise AudioError(
                    f"{given.name} contains invalid samples (too large to mix): the file is damaged; export it again"
                )
            out.append(mono if resampler is None else resampler.resample_chunk(mono))
            done += len(block)
        if resampler is not None:
            out.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    cut = done >= limit and frames > done
    return _Decoded(out.samples(), rate, channels, (frames if cut else done) / rate, peak, damaged)


_LAYOUT_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "quad": 4,
    "4.0": 4,
    "5.0": 5,
    "5.1": 6,
    "6.1": 7,
    "7.1": 8,
}
"""ffmpeg's names of channel layouts → channel count."""


def _decode_ffmpeg(given: _Input, max_seconds: float) -> _Decoded | None:
    """Decode with an `ffmpeg` on the PATH (m4a/AAC and anything else libsndfile cannot), or None.

    A path is read by ffmpeg itself; bytes go through an in-memory file (Linux memfd), not a pipe,
    because an mp4 whose index sits at its end cannot be read from a pipe. Nothing touches the disk.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    data, memfd = None, None
    if given.path is not None:
        input_arg = "file:" + str(given.path.resolve())  # "file:" so that no name is read as a protocol
    elif hasattr(os, "memfd_create"):
        memfd = os.memfd_create("mgc-audio", 0)
        with open(memfd, "wb", closefd=False) as f:
            f.write(given.all_bytes())
        input_arg = f"file:/dev/fd/{memfd}"
    else:
        data, input_arg = given.all_bytes(), "pipe:0"
    command = [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-nostdin",
        "-v",
        "info",
        "-i",
        input_arg,
        "-t",
        str(max_seconds),
        "-map",
        "0:a:0",
        "-f",
        "f32le",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "pipe:1",
    ]
    try:
        done = subprocess.run(
            command,
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            pass_fds=() if memfd is None else (memfd,),
        )
    except subprocess.TimeoutExpired:
        raise AudioError(
            f"decoding {given.name} took too long (over 2 minutes); try a shorter or simpler file"
        ) from None
    finally:
        if memfd is not None:
            os.close(memfd)
    if done.returncode != 0 or not done.stdout:
        return None
    mono = np.frombuffer(done.stdout, dtype="<f4", count=len(done.stdout) // 4).astype(np.float32)
    del done.stdout
    seconds = len(mono) / SAMPLE_RATE
    found = re.search(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", done.stderr)
    if found and len(mono) >= int(max_seconds * SAMPLE_RATE) - SAMPLE_RATE:
        hours, minutes, secs = found.groups()
        seconds = max(seconds, 3600 * int(hours) + 60 * int(minutes) + float(secs))
    stream = re.search(rb"Audio: [^\n]*?, (\d+) Hz, ([^,\n]+)", done.stderr)
    rate = int(stream.group(1)) if stream else SAMPLE_RATE
    layout = stream.group(2).decode(errors="replace") if stream else "mono"
    count = re.match(r"(\d+) channels", layout)
    channels = int(count.group(1)) if count else _LAYOUT_CHANNELS.get(layout.split("(")[0], 1)
    peak = max(float(mono.max()), -float(mono.min())) if len(mono) else 0.0
    if not np.isfinite(peak):
        raise _invalid_samples(given.name, mono)
    return _Decoded(mono, rate, channels, seconds, peak)


def _decode(given: _Input, max_seconds: float) -> tuple[_Decoded, list[str]]:
    """libsndfile, else ffmpeg; refusals for what is plainly not audio; notices for damage."""
    name = given.name
    if not given.head:
        raise AudioError(f"{name} is empty (0 bytes): choose a recording or music file")
    kind = _not_audio_kind(given.head, text=False)
    if kind:  # no audio file starts like these; do not let a decoder guess at them
        raise AudioError(f"{name} is not audio: it is {kind}. Choose a music file ({_formats()})")
    try:
        decoded = _decode_libsndfile(given, max_seconds)
    except AudioError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError, OverflowError) as error:
        problem = _wav_header_problem(given.head)
        if problem:
            raise AudioError(f"{name} is a damaged wav file: {problem}. Export or record it again") from None
        kind = _not_audio_kind(given.head, text=True)
        if kind:
            raise AudioError(f"{name} is not audio: it is {kind}. Choose a music file ({_formats()})") from None
        decoded = _decode_ffmpeg(given, max_seconds)
        if decoded is None:
            detail = _decoder_message(error)
            raise AudioError(
                f"{name} is not audio we can read: it is not {_formats()}, or it is damaged. "
                "Choose a music file in one of those formats" + (f" (the decoder said: {detail})" if detail else "")
            ) from None
    notices = []
    if decoded.damaged:  # ffmpeg resynchronises after damage; libsndfile stopped at it
        repaired = _decode_ffmpeg(given, max_seconds)
        if repaired is not None and len(repaired.mono) > len(decoded.mono):
            decoded = repaired
            notices.append("The file is damaged part-way through; the damaged stretch was skipped.")
        else:
            notices.append(
                f"The file is damaged after {len(decoded.mono) / SAMPLE_RATE:.1f} s; "
                "only the audio before the damage was analysed."
            )
    elif (promised := _promised_seconds(given.head)) and promised - decoded.source_seconds > 0.5:
        notices.append(
            f"The file ends early: its header promises {promised:.1f} s, "
            f"{decoded.source_seconds:.1f} s are there; those were analysed."
        )
    return decoded, notices


def load_audio(source, max_seconds: float = MAX_SECONDS) -> Audio:
    """Decode `source` (a path, bytes or a binary file object) to mono float32 at 22050 Hz.

    Channels are averaged; other rates are resampled with soxr (librosa's default, high quality).
    Raises `AudioError` with a message a person can act on for empty, undecodable, damaged, silent
    and too-short input. Input over `max_seconds` is cut there (see `Audio.truncated`), and only
    that much is decoded: a path is read block by block, never whole, so an hour-long file costs
    no more memory than its first `max_seconds`. Trouble that still leaves usable audio (a file that
    ends early, a damaged stretch) is told in `Audio.notices`.
    """
    given = _open_input(source)
    name = given.name
    decoded, notices = _decode(given, max_seconds)
    mono = decoded.mono
    if mono.size == 0:
        raise AudioError(f"{name} contains no audio samples: it ends after its header; copy or export it again")
    seconds = len(mono) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise AudioError(
            f"{name} is too short: {seconds:.2f} s of audio; at least {MIN_SECONDS:.0f} s is needed "
            "(a few seconds of music give a steadier answer)"
        )
    peak = max(float(mono.max()), -float(mono.min()))  # not np.abs(mono): that is a second copy of the audio
    peak_dbfs = 20 * np.log10(peak) if peak > 0 else -np.inf
    if peak_dbfs < SILENCE_PEAK_DBFS:
        channels = decoded.source_channels
        if channels > 1 and decoded.channel_peak > 10 ** (SILENCE_PEAK_DBFS / 20):
            raise AudioError(
                f"{name} is silent once its {channels} channels are mixed to mono (they cancel out: "
                "one channel is probably phase-inverted; flip its polarity or use one channel)"
            )
        level = "digital silence" if peak == 0 else f"its loudest sample is {peak_dbfs:.0f} dBFS"
        raise AudioError(f"{name} is silent ({level}): is the microphone on, or is the volume turned down?")
    return Audio(
        np.ascontiguousarray(mono),
        SAMPLE_RATE,
        float(decoded.source_seconds),
        int(decoded.source_rate),
        int(decoded.source_channels),
        tuple(notices),
    )
