"""The one audio loader: any file or bytes a person may give us → mono float32 at 22050 Hz.

Decoding goes through libsndfile (wav, flac, ogg/vorbis, opus, mp3, aiff, au …) and, for what it
cannot read (m4a/AAC and others), through an `ffmpeg` on the PATH when there is one. Everything is
decoded in memory: a path is only ever opened for reading (block by block, never whole), and uploaded
bytes never touch the disk (ffmpeg reads them from an in-memory file). Nothing is written anywhere.

Every decode is bounded by construction, whatever the input claims (see `_Budget`): at most
`MAX_CHANNELS` channels and `MAX_SAMPLES_PER_SECOND` samples a second are accepted, at most
`MAX_DECODED_SAMPLES` samples are decoded, and decoding stops after `DECODE_SECONDS` of processor time
(`DECODE_WALL_SECONDS` of the clock at most). ffmpeg runs as a sandboxed child (`_run_ffmpeg`): only the
demuxers of the formats we accept and only the file protocol (so playlists and concat scripts cannot name
other files), a ceiling on its memory, CPU time and log, its own process group, killed at the deadline and
when this process dies.
"""

from __future__ import annotations

import ctypes
import io
import json
import logging
import math
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
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
MAX_CHANNELS = 32
"""Music comes in 1–8 channels (22.2 surround has 24); 255 channels is a crafted header that would
make every second cost 255 seconds' worth of decoding."""
MAX_SAMPLES_PER_SECOND = 1_536_000
"""Channels × rate accepted: 192 kHz in 8 channels, 768 kHz in stereo, 48 kHz in 32 channels. The
duration cap counts seconds; this is what makes a second cost a bounded amount of work."""
MAX_DECODED_SAMPLES = 115_200_000
"""Samples (frames × channels) decoded at most: 10 minutes of 96-kHz stereo. Input with more
channels or a higher rate is analysed over a shorter start (and the result says so), so no input
costs more decoding than this (≈ 1–3 s of CPU for flac or vorbis on this machine)."""
LEVEL_ABOVE = 8.0
"""Peak (× full scale, +18 dBFS) above which decoded samples are scaled down to full scale as they are
decoded. Integer formats and lossy decoders stay within about ±1.5; only a floating-point file can hold
1e20 or 1e37 (finite, so not refused as damaged), and such values make the models' arithmetic overflow
(all-NaN probabilities) or their pictures meaningless. Levelled input says so in `Audio.notices`."""
SPIKE_DB = 60.0
"""Levelled input whose 99th-percentile sample is this many dB below its peak is a few absurd spikes over
(at most) quiet sound, not music: it is refused rather than classified as silence with a full-scale click."""
MAX_ID3_TAGS = 4
"""ID3 tags (an mp3's metadata) chained before the audio that are accepted. A real file has one (two where a
tagger prepended a new one): libmpg123 parses a chain of millions of tiny tags inside one call that no
deadline can stop (4,000,000 tags took 82 s and printed 4,000,000 lines), and read from a path or from bytes
the same chain once gave an answer and once a refusal. `_id3_chain` walks the chain's headers alone."""
DECODE_SECONDS = 20.0
"""Processor seconds one `load_audio` may spend, every decoder together (the calling thread's and each ffmpeg
child's): what the budget above cannot foresee (a damaged stream the decoder fights with packet by packet) is
stopped here. Processor time, not the clock's: a 10-minute mp3 takes ~1.5 s of it, but on a busy server (16
sessions on 2 cores, or other work) four such decodes at once each took over 20 s of the clock with 0.6 s of
processor time, and a wall-clock deadline refused every one of them as "probably damaged"."""
DECODE_WALL_SECONDS = 120.0
"""The clock's backstop for one `load_audio`: a decoder that waits without working (none is known to) still ends."""
FFMPEG_MEMORY = 1 << 30
"""Address space of an ffmpeg child (its shared libraries alone map ~300 MB): an index or a resampler
table that a crafted header asks for fails to allocate instead of taking the server's memory."""
FFMPEG_MAX_ALLOC = 64 << 20
"""ffmpeg's largest single allocation (`-max_alloc`): a 2-hour m4a's packet index is ~7 MB."""
FFMPEG_FORMATS = "mov,mp3,aac,wav,flac,ogg"
"""The demuxers ffmpeg may use (`-format_whitelist`): those of the formats we accept (m4a is mov).
Playlists (hls), concat scripts and other formats that name further files are refused."""


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
    (b"#EXTM3U", "a playlist (it names other files; choose the music file itself)"),
    (b"ffconcat version", "an ffmpeg concat script (it names other files; choose the music file itself)"),
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

    def read_at(self, offset: int, size: int) -> bytes:
        """`size` bytes from `offset` (fewer at the end), without reading what lies before them."""
        if offset + size <= len(self.head):
            return self.head[offset : offset + size]
        if self.data is not None:
            return self.data[offset : offset + size]
        if self.path is not None:
            with open(self.path, "rb") as f:
                f.seek(offset)
                return f.read(size)
        self.file.seek(offset)
        found = self.file.read(size)
        self.file.seek(0)
        return bytes(found)

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


def _id3_chain(given: _Input) -> tuple[int, int]:
    """How many ID3v2 tags are chained at the start of the input (stopping past MAX_ID3_TAGS), and their bytes.

    Only each tag's 10-byte header is read: its size says where the next one starts. The same walk for a path,
    an upload's bytes or an open file, so the command line and the app accept and refuse the same files."""
    tags = position = 0
    while tags <= MAX_ID3_TAGS:
        header = given.read_at(position, 10)
        if len(header) < 10 or not header.startswith(b"ID3") or any(b & 0x80 for b in header[6:10]):
            break
        size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]  # "synchsafe": 7 bits a byte
        position += 10 + size + (10 if header[5] & 0x10 else 0)  # a footer repeats the header at the end
        tags += 1
    return tags, position


OGG_PAGES_WALKED = 100_000
"""Ogg pages whose headers `_ogg_is_chained` reads at most (10 minutes of opus are ~3,000 pages)."""


def _ogg_is_chained(given: _Input) -> bool:
    """Whether an Ogg input holds a chain of streams one after another (a new stream starts after the first's
    pages): libsndfile reads only the first of a chain, ffmpeg reads them all. Only the 27-byte page headers and
    segment tables are read, each page's body is skipped."""
    if not given.head.startswith(b"OggS"):
        return False
    position, first_serial = 0, None
    for _ in range(OGG_PAGES_WALKED):
        header = given.read_at(position, 27)
        if len(header) < 27 or not header.startswith(b"OggS"):
            return False
        flags, serial, segments = header[5], struct.unpack_from("<I", header, 14)[0], header[26]
        if first_serial is None:
            first_serial = serial
        elif flags & 0x02 and serial != first_serial:  # a beginning-of-stream page after the first stream began
            return True
        table = given.read_at(position + 27, segments)
        position += 27 + segments + sum(table)
    return False


def _decoder_message(error: Exception) -> str:
    text = re.sub(r"^Error opening .*?: ", "", str(error).strip())
    if any(phrase in text for phrase in _UNINFORMATIVE_DECODER_MESSAGES):
        return ""
    return text


def _formats() -> str:
    return "wav, flac, ogg, opus, mp3" + (" or m4a" if _ffmpeg() else " (m4a needs ffmpeg installed)")


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
    levelled_from: float | None = None
    """The peak (× full scale) of input far above full scale, which `mono` was scaled down from."""


def _invalid_samples(name: str, samples: np.ndarray) -> AudioError:
    what = "NaN" if np.isnan(samples).any() else "infinity"
    return AudioError(
        f"{name} contains invalid samples ({what}): the file is damaged; export it again from the original"
    )


def _check_stream(name: str, rate: int, channels: int) -> None:
    """Refuse rates and channel counts that no recording has, before anything is decoded."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name} declares a sample rate of {rate:,} Hz, which no recording uses "
            f"({MIN_SAMPLE_RATE:,}–{MAX_SAMPLE_RATE:,} Hz): its header is probably damaged; export it again"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(
            f"{name} declares {channels} channels; music has 1 to 8 and mgc reads at most {MAX_CHANNELS}: "
            "its header is probably damaged, or mix it down to stereo"
        )
    if rate * channels > MAX_SAMPLES_PER_SECOND:
        raise AudioError(
            f"{name} has {channels} channels at {rate:,} Hz, more than mgc decodes "
            f"({MAX_SAMPLES_PER_SECOND:,} samples a second, e.g. 8 channels at 192 kHz): "
            "convert it to stereo at 48 kHz"
        )


@dataclass
class _Budget:
    """What one `load_audio` may spend: seconds of audio, samples decoded, processor time (`DECODE_SECONDS`:
    the calling thread's, `time.thread_time`, plus that of the ffmpeg children it has waited for) and the
    clock's backstop (`DECODE_WALL_SECONDS`). One budget serves one thread: `load_audio` decodes in its caller's."""

    name: str
    max_seconds: float
    deadline: float
    """On `time.monotonic()`'s clock."""
    cpu_seconds: float
    thread_started: float
    """`time.thread_time()` when the decode began."""
    children_cpu: float = 0.0
    """Processor seconds of the ffmpeg children that have ended."""

    @classmethod
    def start(cls, name: str, max_seconds: float) -> _Budget:
        return cls(name, max_seconds, time.monotonic() + DECODE_WALL_SECONDS, DECODE_SECONDS, time.thread_time())

    def frames(self, rate: int, channels: int) -> int:
        """Frames to decode at most from a stream of this rate and channel count."""
        return max(1, min(int(self.max_seconds * rate), MAX_DECODED_SAMPLES // channels))

    def cpu_used(self) -> float:
        return time.thread_time() - self.thread_started + self.children_cpu

    def seconds_left(self) -> tuple[float, float]:
        """(processor seconds, clock seconds) left; `too_slow` is raised when either is spent."""
        cpu, wall = self.cpu_seconds - self.cpu_used(), self.deadline - time.monotonic()
        if cpu <= 0 or wall <= 0:
            raise self.too_slow()
        return cpu, wall

    def too_slow(self) -> AudioError:
        return AudioError(
            f"{self.name} took over {self.cpu_seconds:.0f} s of processing to decode and was stopped: it is probably "
            "damaged; try a shorter or simpler file (stereo, 44.1 or 48 kHz)"
        )


NATIVE_LINES_KEPT = 3
"""Lines of what native decoders print that are kept (for the summary and `last_native_log`); the rest
are counted and dropped: a damaged mp3 stream prints a line per frame, tens of thousands per file."""
NATIVE_FLOOD_LINES = 1000
"""A decode whose native decoders print more lines than this is logged as a warning (a flood worth one
line in the server's log), fewer as info (a damaged file's few complaints are not news)."""

_log = logging.getLogger(__name__)


@dataclass
class NativeLog:
    """What native decoders printed during one stretch of decoding: counted, the first lines kept."""

    names: list[str] = field(default_factory=list)
    """The inputs being decoded during the stretch (several where decodes overlap: the capture is process-wide)."""
    lines: int = 0
    bytes: int = 0
    kept: list[str] = field(default_factory=list)
    _partial: bytes = b""
    _done: threading.Event = field(default_factory=threading.Event)

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        self.lines += chunk.count(b"\n")
        if len(self.kept) < NATIVE_LINES_KEPT:
            *complete, self._partial = (self._partial + chunk).split(b"\n")
            for line in complete[: NATIVE_LINES_KEPT - len(self.kept)]:
                self.kept.append(line[:300].decode("utf-8", "backslashreplace"))
            self._partial = self._partial[:300]

    def summary(self) -> str:
        """One line: how much was printed, while decoding what, and its first line (escaped)."""
        names = ", ".join(self.names[:3]) + (f" and {len(self.names) - 3} more" if len(self.names) > 3 else "")
        first = self.kept[0].encode("unicode_escape").decode() if self.kept else ""
        return (
            f"native audio decoders printed {self.lines:,} lines ({self.bytes:,} bytes) while decoding {names}; "
            f"kept {len(self.kept)}, the first: {first[:200]}"
        )


class _NativeChatter:
    """Where native decoders' complaints go while something decodes: a pipe this process reads itself.

    libsndfile's mp3 decoder (libmpg123, also used for a wav whose format tag says mp3) prints a line on
    the C library's stderr for every damaged frame, and an ffmpeg child prints one per damaged packet:
    millions of lines from one crafted upload. While any decode runs, the C library's `stderr` stream
    points at this pipe (glibc: the `stderr` FILE pointer is swapped, so Python's own stderr, the server's
    log and the command line's notes, still reach the terminal; elsewhere fd 2 itself is redirected, as
    the project did for mp3 before), and every ffmpeg child writes its log there too. A thread reads the
    pipe, counts the lines and keeps the first `NATIVE_LINES_KEPT`; when the last overlapping decode ends,
    one line sums it up (`NATIVE_FLOOD_LINES`). The redirection is process-wide, so overlapping decodes
    share one stretch (counted).
    """

    _END = b"\0mgc-native-log-end\0"

    def __init__(self):
        self.lock = threading.Lock()
        """Held while the pointer moves (which may wait for the reader to empty the pipe)."""
        self.pending_lock = threading.Lock()
        """Held only to look at `pending`: the reader never waits for `lock`."""
        self.depth = 0
        self.current: NativeLog | None = None
        self.pending: list[NativeLog] = []
        """Stretches whose end marker the reader has not reached yet, oldest first."""
        self.last: NativeLog | None = None
        self.read_end, self.write_end = os.pipe()
        os.set_inheritable(self.write_end, False)
        self.file = None  # our FILE*, or None where fd 2 is redirected instead
        self.saved = None  # libc's own stderr FILE*, or a copy of fd 2
        self.pointer = None
        with suppress(OSError, AttributeError, ValueError):
            libc = ctypes.CDLL(None)
            libc.fdopen.restype = ctypes.c_void_p
            libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
            libc.fflush.argtypes = [ctypes.c_void_p]
            self.pointer = ctypes.c_void_p.in_dll(libc, "stderr")
            self.file = libc.fdopen(os.dup(self.write_end), b"w") or None
            self.fflush = libc.fflush
        threading.Thread(target=self._read, name="mgc-native-log", daemon=True).start()

    def _read(self) -> None:
        tail = b""
        while chunk := os.read(self.read_end, 1 << 16):
            data = tail + chunk
            while (end := data.find(self._END)) >= 0:
                with self.pending_lock:
                    stretch = self.pending.pop(0) if self.pending else None
                if stretch is not None:
                    stretch.feed(data[:end])
                    stretch._done.set()
                data = data[end + len(self._END) :]
            keep = len(self._END) - 1  # a marker cut in two by the pipe
            body, tail = (data[:-keep], data[-keep:]) if len(data) > keep else (b"", data)
            with self.pending_lock:
                stretch = self.pending[0] if self.pending else None
            if stretch is not None and body:
                stretch.feed(body)

    @contextmanager
    def captured(self, name: str):
        """Native decoders' stderr goes to the pipe while the block runs."""
        with self.lock:
            if self.depth == 0:
                self.current = NativeLog()
                with self.pending_lock:
                    self.pending.append(self.current)
                self._point_at_pipe()
            self.depth += 1
            self.current.names.append(name)
        try:
            yield
        finally:
            with self.lock:
                self.depth -= 1
                ended = None
                if self.depth == 0:
                    self._point_back()
                    ended, self.current = self.current, None
            if ended is not None:
                self._finish(ended)

    def _point_at_pipe(self) -> None:
        if self.file is not None:
            self.saved = self.pointer.value
            self.pointer.value = self.file
            return
        with suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
            self.saved = os.dup(2)
            os.dup2(self.write_end, 2)

    def _point_back(self) -> None:
        if self.file is not None:
            self.pointer.value = self.saved
            self.fflush(self.file)  # what the FILE still buffers belongs to this stretch
        elif self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
        self.saved = None
        os.write(self.write_end, self._END)

    def _finish(self, stretch: NativeLog) -> None:
        stretch._done.wait(2.0)
        self.last = stretch
        if stretch.lines or stretch.bytes:
            _log.log(logging.WARNING if stretch.lines > NATIVE_FLOOD_LINES else logging.INFO, stretch.summary())


_native_lock = threading.Lock()
_native: _NativeChatter | None = None


def _forget_native_chatter() -> None:
    global _native
    _native = None  # a forked child has the pipe but not the thread that reads it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_native_chatter)


def _native_chatter() -> _NativeChatter | None:
    """The process's one capture, made on first use (None where no pipe can be made)."""
    global _native
    with _native_lock:
        if _native is None:
            with suppress(OSError):
                _native = _NativeChatter()
        return _native


@contextmanager
def _native_stderr_captured(name: str):
    """Run the block with native decoders' stderr counted and bounded (see `_NativeChatter`)."""
    chatter = _native_chatter()
    if chatter is None:
        yield
        return
    with chatter.captured(name):
        yield


def last_native_log() -> NativeLog | None:
    """What native decoders printed during the last stretch of decoding that ended (for tests and `bench`)."""
    return _native.last if _native is not None else None


def _decode_libsndfile(given: _Input, budget: _Budget) -> _Decoded:
    """Decode with libsndfile (its native chatter is captured around the whole of `_decode`)."""
    return _decode_blocks(given, budget)


def _decode_blocks(given: _Input, budget: _Budget) -> _Decoded:
    """Decode block by block, mixing to mono and resampling as we go: memory stays near the output's size."""
    with soundfile.SoundFile(given.for_libsndfile()) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        _check_stream(given.name, rate, channels)
        limit = budget.frames(rate, channels)
        expected = min(frames, limit) if frames > 0 else limit
        out = _MonoBuffer(int(expected * SAMPLE_RATE / rate) + 256)
        resampler = None
        if rate != SAMPLE_RATE:
            import soxr

            resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        block_frames = max(1, BLOCK_SAMPLES // channels)
        done, peak, damaged = 0, 0.0, False
        gain = 1.0  # below 1 once a block peaks above LEVEL_ABOVE (see `_level`)
        while done < limit:
            budget.seconds_left()
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
            block_peak = float(np.max(np.abs(block)))  # finite: |x| of a finite float32 is finite
            peak = max(peak, block_peak)
            if block_peak * gain > LEVEL_ABOVE:  # louder than anything before: level what is decoded so far too
                new_gain = 1.0 / block_peak
                _scale(out.array[: out.length], new_gain / gain)
                gain = new_gain
            if gain != 1.0:
                block = (block.astype(np.float64) * gain).astype(np.float32)  # float64: 1/3e38 is subnormal in float32
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
    seconds = (frames if cut else done) / rate
    levelled = peak if gain != 1.0 else None
    return _Decoded(out.samples(), rate, channels, seconds, peak * gain, damaged, levelled)


def _scale(samples: np.ndarray, gain: float) -> None:
    """Multiply float32 `samples` by `gain` in place, computing in float64 (a tiny gain is subnormal in float32)."""
    np.multiply(samples, np.float64(gain), out=samples, casting="same_kind")


def _ffmpeg() -> tuple[str, str] | None:
    """Paths of `ffmpeg` and `ffprobe` (Debian's ffmpeg package has both), or None without them."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    return (ffmpeg, ffprobe) if ffmpeg and ffprobe else None


_prctl = None
if sys.platform.startswith("linux"):
    with suppress(OSError, AttributeError):
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
_PR_SET_PDEATHSIG = 1


def _child_limits(cpu_seconds: int):
    """What an ffmpeg child does before it starts: ceilings on memory and CPU (SIGXCPU at `cpu_seconds`, SIGKILL
    a second later), no core file, and (Linux) death with the thread that started it, so a killed server leaves
    no decoder running.

    The limits are computed here, in the parent: the function that runs in the child only sets them.
    """

    def ceiling(kind: int, wanted: int, hard_after: int = 0) -> tuple[int, int]:
        _, hard = resource.getrlimit(kind)
        if hard == resource.RLIM_INFINITY:
            return wanted, wanted + hard_after
        return min(wanted, hard), min(wanted + hard_after, hard)

    memory = ceiling(resource.RLIMIT_AS, FFMPEG_MEMORY)
    cpu = ceiling(resource.RLIMIT_CPU, cpu_seconds, hard_after=1)
    core = ceiling(resource.RLIMIT_CORE, 0)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, memory)
        resource.setrlimit(resource.RLIMIT_CPU, cpu)  # past it the kernel kills the child (SIGKILL at the hard limit)
        resource.setrlimit(resource.RLIMIT_CORE, core)
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return limit


@dataclass
class _ChildRun:
    returncode: int
    stdout: bytearray
    """Not copied into bytes: decoded samples are read from it in place."""


def _run_ffmpeg(command: list[str], budget: _Budget, max_output: int, pass_fds=(), data: bytes | None = None):
    """Run an ffmpeg tool sandboxed and bounded: its output up to `max_output` bytes, its log counted with every
    native decoder's (`_NativeChatter`), killed with its process group at the budget's deadline or on any exception.
    Its processor time is the kernel's to stop (`RLIMIT_CPU` at what is left of the budget) and is added to the
    budget when it ends; the clock's backstop is a timer here."""
    cpu_left, seconds = budget.seconds_left()
    child = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=_native.write_end if _native is not None else subprocess.DEVNULL,  # counted with libsndfile's
        pass_fds=pass_fds,
        start_new_session=True,  # its own process group: killing it kills whatever it started
        preexec_fn=_child_limits(max(1, math.ceil(cpu_left))),
    )
    late = threading.Event()

    def kill(timed_out: bool = False) -> None:
        if timed_out:
            late.set()
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)

    def feed() -> None:
        try:
            child.stdin.write(data)
            child.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    helpers = []
    if data is not None:
        helpers.append(threading.Thread(target=feed, daemon=True))
    timer = threading.Timer(seconds, kill, kwargs={"timed_out": True})
    timer.daemon = True
    output = bytearray()
    try:
        for helper in helpers:
            helper.start()
        timer.start()
        while chunk := child.stdout.read1(1 << 20):
            output.extend(chunk)
            if len(output) > max_output:  # more than the budget asked for: stop it, keep what was asked
                kill()
                del output[max_output:]
                break
        returncode = _wait_counting(child, budget)
    finally:
        timer.cancel()
        if child.poll() is None:
            kill()
            child.wait()
        for helper in helpers:
            helper.join()
        for stream in (child.stdout, child.stdin):
            if stream is not None:
                stream.close()
    if late.is_set() or budget.cpu_used() >= budget.cpu_seconds:
        # The clock's backstop, or the kernel's processor-time ceiling (ffmpeg ends on SIGXCPU as on SIGTERM,
        # exit code 255, so its time tells, not how it ended).
        raise budget.too_slow()
    return _ChildRun(returncode, output)


def _wait_counting(child: subprocess.Popen, budget: _Budget) -> int:
    """Wait for `child` to end, add its processor time to `budget`, and return its exit code as Popen gives it."""
    try:
        _, status, usage = os.wait4(child.pid, 0)
    except ChildProcessError:  # reaped already (not by us): its time is unknown
        return child.wait()
    budget.children_cpu += usage.ru_utime + usage.ru_stime
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode


def _ffmpeg_input_options(protocols: str) -> list[str]:
    return [
        "-hide_banner",
        "-max_alloc",
        str(FFMPEG_MAX_ALLOC),
        "-protocol_whitelist",
        protocols,
        "-format_whitelist",
        FFMPEG_FORMATS,
    ]


@dataclass
class _Stream:
    rate: int
    channels: int
    seconds: float | None
    packets: int | None
    """How many packets the container's index lists, where it says."""


def _probe(ffprobe: str, input_arg: str, protocols: str, budget: _Budget, pass_fds, data) -> _Stream | None:
    """The first audio stream's rate, channels and the input's duration as ffprobe reads them, or None."""
    command = [
        ffprobe,
        "-v",
        "error",
        *_ffmpeg_input_options(protocols),
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=sample_rate,channels,nb_frames:format=duration",
        "-of",
        "json",
        "-i",
        input_arg,
    ]
    done = _run_ffmpeg(command, budget, 1 << 16, pass_fds, data)
    try:
        found = json.loads(done.stdout)
        stream = found["streams"][0]
        duration = found.get("format", {}).get("duration")
        packets = stream.get("nb_frames")
        return _Stream(
            int(stream["sample_rate"]),
            int(stream["channels"]),
            float(duration) if duration else None,
            int(packets) if packets and str(packets).isdigit() else None,
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _decode_ffmpeg(given: _Input, budget: _Budget) -> _Decoded | None:
    """Decode with ffmpeg (m4a/AAC and anything else libsndfile cannot), or None where it cannot either.

    ffprobe reads the stream's rate and channels first, so that the checks of `_check_stream` and the
    sample budget apply before ffmpeg decodes (or builds a resampler for) anything. A path is read by
    ffmpeg itself; bytes go through an in-memory file (Linux memfd), not a pipe, because an mp4 whose
    index sits at its end cannot be read from a pipe. Nothing touches the disk.
    """
    tools = _ffmpeg()
    if tools is None:
        return None
    ffmpeg, ffprobe = tools
    data, memfd, protocols = None, None, "file"
    if given.path is not None:
        input_arg = "file:" + str(given.path.resolve())  # "file:" so that no name is read as a protocol
        size = given.path.stat().st_size
    elif hasattr(os, "memfd_create"):
        memfd = os.memfd_create("mgc-audio", 0)
        with open(memfd, "wb", closefd=False) as f:
            size = f.write(given.all_bytes())
        input_arg = f"file:/dev/fd/{memfd}"
    else:
        data, input_arg, protocols = given.all_bytes(), "pipe:0", "pipe"
        size = len(data)
    pass_fds = () if memfd is None else (memfd,)
    try:
        stream = _probe(ffprobe, input_arg, protocols, budget, pass_fds, data)
        if stream is None:
            return None
        _check_stream(given.name, stream.rate, stream.channels)
        if stream.packets and stream.packets > size:  # a sample table pointing many packets at the same bytes
            raise AudioError(
                f"{given.name} is damaged: its index lists {stream.packets:,} packets in {size:,} bytes "
                "(each needs bytes of its own); export it again"
            )
        seconds = budget.frames(stream.rate, stream.channels) / stream.rate
        command = [
            ffmpeg,
            "-nostdin",
            "-nostats",
            "-v",
            "error",
            "-threads",
            "1",
            *_ffmpeg_input_options(protocols),
            "-i",
            input_arg,
            "-t",
            f"{seconds:.6f}",
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
        done = _run_ffmpeg(command, budget, 4 * (math.ceil(seconds * SAMPLE_RATE) + SAMPLE_RATE), pass_fds, data)
    finally:
        if memfd is not None:
            os.close(memfd)
    if done.returncode != 0 or not done.stdout:
        return None
    mono = np.frombuffer(done.stdout, dtype="<f4", count=len(done.stdout) // 4).astype(np.float32, copy=False)
    decoded_seconds = len(mono) / SAMPLE_RATE
    source_seconds = decoded_seconds
    if stream.seconds and len(mono) >= int(seconds * SAMPLE_RATE) - SAMPLE_RATE:  # cut: say how long it was
        source_seconds = max(decoded_seconds, stream.seconds)
    peak = max(float(mono.max()), -float(mono.min())) if len(mono) else 0.0
    if not np.isfinite(peak):
        raise _invalid_samples(given.name, mono)
    levelled = None
    if peak > LEVEL_ABOVE:  # see LEVEL_ABOVE; ffmpeg has mixed the channels already
        _scale(mono, 1.0 / peak)
        levelled, peak = peak, 1.0
    return _Decoded(mono, stream.rate, stream.channels, source_seconds, peak, levelled_from=levelled)


def _decode(given: _Input, budget: _Budget) -> tuple[_Decoded, list[str]]:
    """libsndfile, else ffmpeg; refusals for what is plainly not audio; notices for damage."""
    name = given.name
    if not given.head:
        raise AudioError(f"{name} is empty (0 bytes): choose a recording or music file")
    kind = _not_audio_kind(given.head, text=False)
    if kind:  # no audio file starts like these; do not let a decoder guess at them
        raise AudioError(f"{name} is not audio: it is {kind}. Choose a music file ({_formats()})")
    tags, tag_bytes = _id3_chain(given)
    if tags > MAX_ID3_TAGS:
        raise AudioError(
            f"{name} starts with a chain of more than {MAX_ID3_TAGS} ID3 tags (metadata, {tag_bytes:,} bytes so far) "
            "where an mp3 has one: it is damaged or made to stall a decoder; export it again"
        )
    try:
        if _ogg_is_chained(given):  # ffmpeg reads every stream of the chain
            raise RuntimeError("a chain of Ogg streams")
        decoded = _decode_libsndfile(given, budget)
    except AudioError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError, OverflowError) as error:
        problem = _wav_header_problem(given.head)
        if problem:
            raise AudioError(f"{name} is a damaged wav file: {problem}. Export or record it again") from None
        kind = _not_audio_kind(given.head, text=True)
        if kind:
            raise AudioError(f"{name} is not audio: it is {kind}. Choose a music file ({_formats()})") from None
        decoded = _decode_ffmpeg(given, budget)
        if decoded is None:
            detail = _decoder_message(error)
            raise AudioError(
                f"{name} is not audio we can read: it is not {_formats()}, or it is damaged. "
                "Choose a music file in one of those formats" + (f" (the decoder said: {detail})" if detail else "")
            ) from None
    notices = []
    if decoded.levelled_from is not None:
        notices.append(
            f"The file's samples reach {decoded.levelled_from:.3g} times full scale (a floating-point file written "
            "without levelling, or a damaged one); they were scaled down to full scale before classifying."
        )
    if decoded.damaged:  # ffmpeg resynchronises after damage; libsndfile stopped at it
        try:
            repaired = _decode_ffmpeg(given, budget)
        except AudioError:  # out of time, or ffmpeg reads it as something absurd: keep what libsndfile read
            repaired = None
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
    with _native_stderr_captured(name):
        decoded, notices = _decode(given, _Budget.start(name, max_seconds))
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
    if not math.isfinite(peak):  # e.g. a resampler's overshoot past float32's range: no model may see it
        raise _invalid_samples(name, mono)
    if decoded.levelled_from is not None:  # rare: a copy of every 7th sample costs little
        typical = float(np.percentile(np.abs(mono[::7]), 99))
        if typical < peak * 10 ** (-SPIKE_DB / 20):
            raise AudioError(
                f"{name} cannot be music: a few of its samples reach {decoded.levelled_from:.3g} times full scale "
                f"and almost all the rest is over {SPIKE_DB:.0f} dB quieter than them (the file is damaged); "
                "export it again from the original"
            )
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
