"""A corpus of bad (and merely odd) input that people give a music classifier, generated on the fly.

Each function returns one `Case`: the file a person might upload and what mgc must say about it.
`tests/test_bad_input.py` puts every case through `mgc.classify`, `python -m mgc predict` and the
app's upload. Cases that are too large to hold as bytes (an hour of audio) or that are not files at
all (folders, pipes) are made by fixtures there.

The last part, `CRAFTED`, is input made to take a server down from within the upload limit: sample
tables that point millions of packets at the same bytes, headers that claim absurd rates and channel
counts, playlists that name the server's own files. MP4 boxes are written here with `struct` around
what ffmpeg encodes; nothing is downloaded and nothing large is kept.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from tests.conftest import SR, encode, sine_chord


@dataclass(frozen=True)
class Case:
    """One input and the answer it must get."""

    name: str
    filename: str
    data: bytes
    error: tuple[str, ...] = ()
    """Phrases the AudioError message must contain; empty for input that must classify."""
    seconds: float | None = None
    """For input that classifies: the seconds analysed."""
    notice: str | None = None
    """For input that classifies: a phrase one of `Prediction.notices` must contain (none when None)."""
    warning: str | None = None
    """For input that classifies: a phrase the app's "may not be music" warning must contain."""
    needs_ffmpeg: bool = False

    @property
    def classifies(self) -> bool:
        return not self.error


def wav_header(rate: int, channels: int, bits: int, data_bytes: int, format_tag: int = 1) -> bytes:
    """A 44-byte RIFF/WAVE header written by hand, so that it can say things libsndfile would refuse to write."""
    block = channels * bits // 8
    riff_size = min(36 + data_bytes, 0xFFFFFFFF)
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, format_tag, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).round().astype("<i2").tobytes()


def _noise(seconds: float, level: float, seed: int) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


# --- not audio at all -------------------------------------------------------------------------


def empty_file() -> Case:
    return Case("empty file", "empty.wav", b"", error=("empty", "0 bytes"))


def random_bytes_named_wav() -> Case:
    return Case(
        "random bytes named .wav",
        "noise.wav",
        np.random.default_rng(3).bytes(20000),
        error=("not audio we can read", "damaged"),
    )


def random_bytes_named_mp3() -> Case:
    """Begins with an MPEG frame sync (0xFFE4), so libsndfile hands it to its mp3 decoder, which complains on stderr."""
    data = np.random.default_rng(1).bytes(20000)
    assert data[:2] == b"\xff\xe4"
    return Case("random bytes named .mp3", "song.mp3", data, error=("not audio we can read",))


def text_named_flac() -> Case:
    return Case(
        "text named .flac",
        "notes.flac",
        "Lyrics — verse 1, chorus ×2.\n".encode() * 100,
        error=("not audio", "a text file"),
    )


def png_named_mp3() -> Case:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 90)).save(buffer, format="PNG")
    return Case("PNG renamed .mp3", "cover.mp3", buffer.getvalue(), error=("not audio", "a PNG image"))


def jpeg_named_mp3() -> Case:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 130, 90)).save(buffer, format="JPEG")
    return Case("JPEG renamed .mp3", "photo.mp3", buffer.getvalue(), error=("not audio", "a JPEG image"))


def zip_named_ogg() -> Case:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("song.wav", encode(sine_chord(2.0)))
    return Case("zip renamed .ogg", "album.ogg", buffer.getvalue(), error=("not audio", "a ZIP archive"))


# --- damaged headers and streams --------------------------------------------------------------


def truncated_wav() -> Case:
    """The header claims 6 s; the second half of the file is missing. What is there is music."""
    data = encode(sine_chord(6.0), subtype="PCM_16")
    return Case(
        "truncated wav",
        "cut.wav",
        data[: len(data) // 2],
        seconds=3.0,
        notice="ends early: its header promises 6.0 s, 3.0 s are there",
    )


def wav_claiming_a_huge_length() -> Case:
    """The data chunk says 0xFFFFFFF0 bytes (≈ 27 hours); one second is there. Streaming recorders write
    such sizes (or 0) when they cannot know the length, so this is no damage and gets no notice."""
    return Case(
        "wav header claiming 4 GB", "huge.wav", wav_header(SR, 1, 16, 0xFFFFFFF0) + pcm16(sine_chord(1.0)), seconds=1.0
    )


def wav_header_without_data() -> Case:
    return Case("wav header and no data", "header.wav", wav_header(SR, 1, 16, 88200), error=("no audio samples",))


def wav_with_sample_rate_zero() -> Case:
    return Case(
        "sample rate 0",
        "rate0.wav",
        wav_header(0, 1, 16, 3 * SR * 2) + pcm16(sine_chord(3.0)),
        error=("damaged wav", "sample rate of 0 Hz"),
    )


def wav_with_sample_rate_1_hz() -> Case:
    """66150 samples at 1 Hz would be 18 hours; no recording is made at 1 Hz."""
    return Case(
        "sample rate 1 Hz",
        "rate1.wav",
        wav_header(1, 1, 16, 3 * SR * 2) + pcm16(sine_chord(3.0)),
        error=("sample rate of 1 Hz", "damaged"),
    )


def wav_with_sample_rate_10_mhz() -> Case:
    return Case(
        "sample rate 10 MHz",
        "rate10M.wav",
        wav_header(10_000_000, 1, 16, 3 * SR * 2) + pcm16(sine_chord(3.0)),
        error=("sample rate of 10,000,000 Hz", "damaged"),
    )


def wav_with_zero_channels() -> Case:
    """libsndfile will not write it; the header is crafted by hand."""
    return Case(
        "0 channels",
        "nochannels.wav",
        wav_header(SR, 0, 16, 3 * SR * 2) + pcm16(sine_chord(3.0)),
        error=("damaged wav", "0 channels"),
    )


def float_wav_with_nan() -> Case:
    samples = sine_chord(3.0)
    samples[SR : SR + 100] = np.nan
    return Case("float wav with NaN", "nan.wav", encode(samples, subtype="FLOAT"), error=("NaN", "damaged"))


def float_wav_with_infinity() -> Case:
    samples = sine_chord(3.0)
    samples[2 * SR] = np.inf
    samples[2 * SR + 1] = -np.inf
    return Case("float wav with inf", "inf.wav", encode(samples, subtype="FLOAT"), error=("infinity", "damaged"))


def mp3_with_a_damaged_stretch() -> Case:
    """3 kB of garbage a third of the way into a 10-s mp3: ffmpeg resynchronises after it."""
    data = bytearray(encode(sine_chord(10.0), format="MP3"))
    data[len(data) // 3 : len(data) // 3 + 3000] = np.random.default_rng(0).bytes(3000)
    return Case(
        "mp3 with a damaged stretch",
        "scratched.mp3",
        bytes(data),
        seconds=9.4,
        notice="damaged part-way through",
        needs_ffmpeg=True,
    )


# --- too short, too quiet, cancelling ---------------------------------------------------------


def clip_of_50_ms() -> Case:
    return Case("0.05 s of audio", "blip.wav", encode(sine_chord(0.05)), error=("too short", "0.05 s", "at least 1 s"))


def clip_of_2_s() -> Case:
    return Case("2 s of audio", "short.wav", encode(sine_chord(2.0)), seconds=2.0)


def digital_silence() -> Case:
    return Case(
        "exact digital silence",
        "silence.wav",
        encode(np.zeros(3 * SR, dtype=np.float32)),
        error=("silent", "digital silence", "microphone"),
    )


def noise_at_minus_90_dbfs() -> Case:
    return Case(
        "-90 dBFS noise",
        "hiss.wav",
        encode(_noise(3.0, 10 ** (-90 / 20), seed=2), subtype="FLOAT"),
        error=("silent", "dBFS", "volume"),
    )


def opposite_phase_stereo() -> Case:
    chord = sine_chord(3.0)
    return Case(
        "opposite-phase stereo",
        "phase.wav",
        encode(np.stack([chord, -chord], axis=1)),
        error=("cancel out", "phase-inverted"),
    )


def full_scale_white_noise() -> Case:
    """Classifies (the model always answers), and the app says it may not be music."""
    noise = np.random.default_rng(4).integers(-32768, 32768, 4 * SR).astype("<i2")
    return Case(
        "full-scale white noise",
        "static.wav",
        wav_header(SR, 1, 16, noise.nbytes) + noise.tobytes(),
        seconds=4.0,
        warning="noise-like",
    )


# --- odd but fine formats ---------------------------------------------------------------------


def surround_96_khz_6_channels() -> Case:
    chord = sine_chord(3.0, sr=96000)
    channels = np.stack([chord, chord, 0.5 * chord, 0.1 * chord, 0.3 * chord, 0.3 * chord], axis=1)
    return Case("96 kHz 6 channels", "surround.wav", encode(channels, sr=96000), seconds=3.0)


def telephone_8_khz_8_bit() -> Case:
    return Case("8 kHz 8-bit", "phone.wav", encode(sine_chord(3.0, sr=8000), sr=8000, subtype="PCM_U8"), seconds=3.0)


def m4a_with_its_index_at_the_end() -> Case:
    """ffmpeg's default mp4 layout (moov after the audio): cannot be decoded from a pipe, only from a seekable input."""
    if shutil.which("ffmpeg") is None:
        return Case("m4a with moov at the end", "voice-memo.m4a", b"", seconds=20.0, needs_ffmpeg=True)
    with tempfile.TemporaryDirectory() as folder:
        wav, m4a = Path(folder) / "in.wav", Path(folder) / "out.m4a"
        soundfile.write(wav, sine_chord(20.0), SR)
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-v", "error", "-nostdin", "-i", str(wav), "-c:a", "aac", str(m4a)],
            check=True,
        )
        data = m4a.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")
    return Case("m4a with moov at the end", "voice-memo.m4a", data, seconds=20.0, needs_ffmpeg=True)


# --- crafted to exhaust the server or make it read its own files ------------------------------


def _ffmpeg_encode(seconds: float, codec: str, suffix: str) -> bytes:
    """A small valid file of a sine, encoded by ffmpeg (an m4a with its moov after mdat, as ffmpeg
    writes it); b"" without ffmpeg (the cases made from it need ffmpeg and are skipped)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return b""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"x.{suffix}"
        command = [ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", f"sine=d={seconds}", "-c:a", codec, str(out)]
        subprocess.run(command, check=True)
        return out.read_bytes()


_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf"}


def _mp4_boxes(data: bytes) -> list[list]:
    """An MP4 file as a tree of [kind, body] (body: bytes, or a list for container boxes)."""
    tree, start = [], 0
    while start + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, start)
        body = data[start + 8 : start + size]
        tree.append([kind, _mp4_boxes(body) if kind in _MP4_CONTAINERS else body])
        start += size
    return tree


def _mp4_bytes(tree: list[list]) -> bytes:
    return b"".join(
        struct.pack(">I4s", 8 + len(body := _mp4_bytes(b) if isinstance(b, list) else b), kind) + body
        for kind, b in tree
    )


def _mp4_edit(tree: list[list], replace: dict[bytes, bytes], drop: set[bytes]) -> list[list]:
    return [
        [kind, _mp4_edit(body, replace, drop) if isinstance(body, list) else replace.get(kind, body)]
        for kind, body in tree
        if kind not in drop
    ]


def m4a_with_a_sample_table(packets: int, chunks: int, payload: bytes) -> bytes:
    """An AAC m4a whose sample table lists `packets` one-byte packets in `chunks` chunks, every chunk at
    the start of the same `payload`: a file of a few kB–MB whose index is as long as the tables say."""
    tree = [box for box in _mp4_boxes(_ffmpeg_encode(1.0, "aac", "m4a")) if box[0] in (b"ftyp", b"moov")]

    def tables(offset: int) -> dict[bytes, bytes]:
        return {
            b"stts": struct.pack(">IIII", 0, 1, packets, 1024),  # each packet 1024 samples long
            b"stsc": struct.pack(">IIIII", 0, 1, 1, packets // chunks, 1),
            b"stsz": struct.pack(">III", 0, 1, packets),  # every packet 1 byte
            b"stco": struct.pack(f">II{chunks}I", 0, chunks, *[offset] * chunks),
        }

    drop = {b"sgpd", b"sbgp", b"edts"}  # sample groups and edits that describe the original packets
    head = _mp4_bytes(_mp4_edit(tree, tables(0), drop))
    head = _mp4_bytes(_mp4_edit(tree, tables(len(head) + 8), drop))  # same length: the offsets are known now
    return head + struct.pack(">I4s", 8 + len(payload), b"mdat") + payload


def m4a_sample_table_flood() -> Case:
    """100 chunks × 300,000 one-byte packets over the same 300 kB of random bytes: 30 M "AAC packets".
    Before the sandbox: ffmpeg logged ~2 lines per packet and the server kept the log (7.85 GB)."""
    data = m4a_with_a_sample_table(30_000_000, 100, np.random.default_rng(5).bytes(300_000))
    return Case("m4a sample-table flood", "flood.m4a", data, error=("30,000,000 packets", "damaged"), needs_ffmpeg=True)


def m4a_small_sample_table_flood() -> Case:
    """2 M packets over 300 kB: an index small enough for ffmpeg's allocation limit (decoding them all
    takes ffmpeg ~12 s of CPU), refused because a file cannot hold more packets than bytes."""
    data = m4a_with_a_sample_table(2_000_000, 100, np.random.default_rng(6).bytes(300_000))
    return Case(
        "m4a flood of 2 M packets", "flood2M.m4a", data, error=("2,000,000 packets", "damaged"), needs_ffmpeg=True
    )


def m4a_index_bomb() -> Case:
    """9 kB whose moov claims 89 M samples: before the sandbox, ffmpeg built a 2.1-GB index for it (now
    its allocation limit refuses that, and the packet count refuses the file)."""
    data = m4a_with_a_sample_table(89_000_000, 1, np.random.default_rng(7).bytes(8000))
    return Case("m4a index bomb", "bomb.m4a", data, error=("89,000,000 packets", "damaged"), needs_ffmpeg=True)


def alac_m4a_declaring(rate: int) -> Case:
    """An ALAC m4a whose codec header (the 'alac' cookie, where ffmpeg reads the rate) declares `rate`:
    ffmpeg, not libsndfile, decodes m4a, and 300 MHz made it build a 1.8-GB resampler table."""
    data = bytearray(_ffmpeg_encode(2.0, "alac", "m4a"))
    if data:
        cookie = data.find(b"\x00\x00\x00\x24alac", data.find(b"stsd"))
        struct.pack_into(">I", data, cookie + 32, rate)
    return Case(
        f"m4a declaring {rate:,} Hz", "rate.m4a", bytes(data), error=(f"sample rate of {rate:,} Hz",), needs_ffmpeg=True
    )


def matroska_pcm_named_m4a() -> Case:
    """Matroska PCM claiming 300,000,007 Hz, renamed .m4a: ffmpeg may not even open Matroska (not a
    format we accept), let alone build its resampler."""
    data = _ffmpeg_encode(2.0, "pcm_s16le", "mkv")
    rate = b"\xb5\x88" + struct.pack(">d", 44100.0)  # Matroska's SamplingFrequency, an 8-byte float
    data = data.replace(rate, b"\xb5\x88" + struct.pack(">d", 300_000_007.0))
    return Case(
        "Matroska PCM at 300 MHz named .m4a", "mkv.m4a", data, error=("not audio we can read",), needs_ffmpeg=True
    )


def _many_channels(format: str, subtype: str, channels: int, rate: int) -> bytes:
    return encode(np.zeros((4800, channels), np.float32), sr=rate, format=format, subtype=subtype)


def ogg_vorbis_with_255_channels() -> Case:
    """255 channels at 192 kHz (libsndfile's encoder crashes at 768 kHz). Before the budget, the length
    cap counted seconds, so a 34-MB file like this asked for 117 G samples: ~22 minutes of CPU."""
    data = _many_channels("OGG", "VORBIS", 255, 192_000)
    return Case("Ogg Vorbis with 255 channels", "wide.ogg", data, error=("255 channels", "stereo"))


def opus_with_255_channels() -> Case:
    data = _many_channels("OGG", "OPUS", 255, 48_000)
    return Case("Opus with 255 channels", "wide.opus", data, error=("255 channels", "stereo"))


def flac_with_8_channels_at_655_khz() -> Case:
    """FLAC's own limits (8 channels, 655,350 Hz): each alone is a rate some file may have, together 5.2 M
    samples a second."""
    data = _many_channels("FLAC", "PCM_16", 8, 655_350)
    return Case("FLAC 8 channels at 655 kHz", "wide.flac", data, error=("8 channels at 655,350 Hz", "stereo"))


def hls_playlist_naming(target: Path) -> Case:
    """An HLS playlist uploaded as .m4a naming a file of the server; one comment line is not UTF-8, so the
    input does not look like text. Before the sandbox ffmpeg followed it and classified the server's file."""
    data = (
        b"#EXTM3U\n#\xff\xfe\xfd not text\n#EXT-X-TARGETDURATION:30\n#EXTINF:30,\n"
        + f"file://{target}\n#EXT-X-ENDLIST\n".encode()
    )
    return Case(
        "HLS playlist naming a server file", "list.m4a", data, error=("not audio", "a playlist"), needs_ffmpeg=True
    )


def ffconcat_script_naming(target: Path) -> Case:
    data = b"ffconcat version 1.0\n#\xff\xfe\n" + f"file '{target}'\n".encode()
    return Case(
        "ffconcat script naming a server file", "concat.m4a", data, error=("not audio", "concat"), needs_ffmpeg=True
    )


SERVER_FILE = Path("/etc/hostname")
"""What the crafted playlists of `CASES` name; tests/test_bad_input.py names an audio file of its own."""


CASES = [
    empty_file,
    random_bytes_named_wav,
    random_bytes_named_mp3,
    text_named_flac,
    png_named_mp3,
    jpeg_named_mp3,
    zip_named_ogg,
    truncated_wav,
    wav_claiming_a_huge_length,
    wav_header_without_data,
    wav_with_sample_rate_zero,
    wav_with_sample_rate_1_hz,
    wav_with_sample_rate_10_mhz,
    wav_with_zero_channels,
    float_wav_with_nan,
    float_wav_with_infinity,
    mp3_with_a_damaged_stretch,
    clip_of_50_ms,
    clip_of_2_s,
    digital_silence,
    noise_at_minus_90_dbfs,
    opposite_phase_stereo,
    full_scale_white_noise,
    surround_96_khz_6_channels,
    telephone_8_khz_8_bit,
    m4a_with_its_index_at_the_end,
]
"""Every ordinary case, in the order a report lists them."""

CRAFTED = [
    m4a_sample_table_flood,
    m4a_small_sample_table_flood,
    m4a_index_bomb,
    lambda: alac_m4a_declaring(1),
    lambda: alac_m4a_declaring(300_000_007),
    matroska_pcm_named_m4a,
    ogg_vorbis_with_255_channels,
    opus_with_255_channels,
    flac_with_8_channels_at_655_khz,
    lambda: hls_playlist_naming(SERVER_FILE),
    lambda: ffconcat_script_naming(SERVER_FILE),
]
"""Uploads crafted within the upload limit to exhaust the server's memory or CPU or make it read its own
files; each must end with a clear message within seconds (tests/test_bad_input.py measures them)."""


# --- absurd but finite samples, a decoder's log flood, chains (issue 28) ------------------------------


def float_wav_peaking_at_1e20() -> Case:
    """Music scaled to a peak of 1e20 in a float wav: finite, so not refused as damaged; the feature models gave
    all-NaN probabilities and the CRNN a confident wrong answer."""
    return Case(
        "float wav peaking at 1e20",
        "loud.wav",
        encode(sine_chord(4.0).astype(np.float64) * 2e20, subtype="FLOAT"),
        seconds=4.0,
        notice="scaled down to full scale",
    )


def double_stereo_at_1e37() -> Case:
    """64-bit stereo at ±1e37 (float32 holds it, its square does not)."""
    chord = sine_chord(4.0, sr=44100).astype(np.float64) * 2e37
    return Case(
        "64-bit stereo at ±1e37",
        "louder.wav",
        encode(np.stack([chord, 0.5 * chord], axis=1), sr=44100, subtype="DOUBLE"),
        seconds=4.0,
        notice="scaled down to full scale",
    )


def float_wav_with_absurd_spikes() -> Case:
    """Quiet music with three samples at 1e30: levelled, it would be silence with clicks; it is refused."""
    samples = sine_chord(4.0).astype(np.float64) * 1e-3
    samples[[SR, 2 * SR, 3 * SR]] = 1e30
    return Case(
        "float wav with absurd spikes", "spikes.wav", encode(samples, subtype="FLOAT"), error=("cannot be music",)
    )


def mp3_frames_in_a_wav(frames: int = 2000) -> Case:
    """A RIFF/WAVE whose format tag (0x55) says mp3, holding frames with valid headers and random side
    information: libsndfile hands it to libmpg123, which printed a line per frame (67,135 lines for 45 MB)."""
    rng = np.random.default_rng(5)
    body = b"".join(b"\xff\xfb\x90\x00" + rng.bytes(413) for _ in range(frames))  # 128 kbit/s, 44.1 kHz
    fmt = struct.pack("<HHIIHHH", 0x55, 2, 44100, 16000, 1, 0, 12) + struct.pack("<HIHHH", 1, 2, 417, 1, 1393)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body
    return Case(
        "mp3 frames with random side information in a wav",
        "mp3.wav",
        b"RIFF" + struct.pack("<I", len(riff)) + riff,
        error=("cannot be music",),
    )


def id3_tag(body: int) -> bytes:
    """An empty ID3v2.3 tag with `body` bytes of padding (its size is "synchsafe": 7 bits a byte)."""
    return b"ID3\x03\x00\x00" + bytes((body >> shift) & 0x7F for shift in (21, 14, 7, 0)) + bytes(body)


def mp3_behind_a_chain_of_id3_tags(tags: int = 400_000, body: int = 90) -> Case:
    """40 MB of chained tiny ID3 tags, then real mp3: libmpg123 parses the chain inside one call no deadline
    stops; read from a path it classified after seconds, uploaded it was refused."""
    data = id3_tag(body) * tags + encode(sine_chord(5.0), format="MP3")
    return Case("mp3 behind 40 MB of chained ID3 tags", "tagged.mp3", data, error=("ID3 tags", "chain"))


def chained_opus() -> Case:
    """Two Ogg Opus streams one after the other (3 s, then 4 s): libsndfile reads only the first."""
    first = _ffmpeg_encode(3.0, "libopus", "opus")
    second = _ffmpeg_encode(4.0, "libopus", "opus")
    return Case("two chained opus streams", "chain.opus", first + second, seconds=7.0, needs_ffmpeg=True)


SECOND_ROUND = [
    float_wav_peaking_at_1e20,
    double_stereo_at_1e37,
    float_wav_with_absurd_spikes,
    mp3_frames_in_a_wav,
    mp3_behind_a_chain_of_id3_tags,
    chained_opus,
]
"""A hostile user's second round (issue 28): absurd but finite samples, a decoder's log flood, chains that made
the upload and the command line disagree. Each must end with a finite answer or a one-line message."""


def write_hour_long_wav(path: Path, seconds: float = 3600.0) -> Path:
    """An hour of 22050-Hz mono 16-bit music (≈ 159 MB), written a 10-s chord at a time."""
    tile = sine_chord(10.0)
    with soundfile.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
        for _ in range(int(seconds // 10)):
            f.write(tile)
    return path
