"""musicnn: Pons & Serra's pretrained music tagger, rebuilt in plain PyTorch with its published weights.

Jordi Pons and Xavier Serra, "musicnn: Pre-trained convolutional neural networks for music audio tagging",
ISMIR 2019 late-breaking demo (arXiv 1909.06654); network of Pons, Nieto, Prockup, Schmidt, Ehmann & Serra,
"End-to-end learning for music audio tagging at scale", ISMIR 2018. Weights: `musicnn==0.1.0`'s
TensorFlow-1 checkpoints MSD_musicnn (Million Song Dataset, top-50 Last.fm tags) and MTT_musicnn
(MagnaTagATune, top-50 tags), converted once by `tools/convert_musicnn.py` into `musicnn_weights/`
(ISC licence, `musicnn_weights/LICENSE-musicnn.txt`). The repository never needs TensorFlow.

The network reads a 3-s patch of log-mel spectrogram, (batch, 187 frames, 96 bands), drawn by
`mgc.frontends.musicnn_input`, and returns `{"taggram", "logits", "embedding"}`: the 50 tag
probabilities (sigmoid, tags are not exclusive), their logits, and the 200-d penultimate layer (the
batch-normalised output of the back end's dense layer, musicnn's 'penultimate' feature).

Exactly musicnn's `models.build_musicnn`, layer for layer (`Musicnn`):

* front end — the input's one-channel batch norm, then musically motivated filters over the 96 bands:
  two timbral convolutions of 7 frames × 38 and 67 bands (40 % and 70 % of 96; 204 filters each, time
  zero-padded by 3, bands 'valid') and three temporal convolutions of 128, 64 and 32 frames × 1 band
  (51 filters each, TensorFlow's 'same' padding: one more zero after than before); each is followed by
  ReLU, batch norm and a max over all remaining bands, giving 561 channels per frame;
* mid end — three convolutions of 7 frames over all channels (64 filters, zero-padded), each followed by
  ReLU and batch norm, the second and third with residual connections; the front end's and the three
  mid-end outputs are concatenated densely (753 channels);
* back end — max and mean over time, interleaved per channel as TensorFlow's flatten of
  (channels, [max, mean]) leaves them, batch norm, a dense layer of 200 with ReLU and batch norm (the
  embedding), and a dense layer to the 50 tag logits. Dropout (training only) is left out.

Batch norm epsilon is TensorFlow's default 1e-3. In musicnn every batch norm *follows* its layer's ReLU,
so a plain fold into the preceding weights is not exact — and most of the front end's batch norms have negative
scales (170 of MSD's 204 filters in the first timbral layer), so neither does batch norm commute with the max
over bands. `FoldedMusicnn` folds them anyway, with a per-channel clamp (see there), and runs the front end
channels-last: the same function to float rounding, ≈ 2.8× quicker than `Musicnn` on a 30-s clip's 10 patches
(`python -m mgc bench --parts musicnn`, one CPU thread: 316 ms instead of 895 ms, two patches at a time as
`mgc.frontends.MUSICNN_INPUT` batches them). The five front-end convolutions are ≈ 90 % of what remains, at
≈ 45 GMAC/s, near this CPU's peak for one thread: 1.3 GMAC a patch, 85 % of it the two timbral convolutions.
Tried and measured slower on the same clip: the three temporal convolutions as one (kernels zero-padded to 128
frames: 1.7× the multiply-adds; the two timbral ones cannot share a kernel without more still), all ten patches
at once (the first timbral output, 9 MB a patch, then falls out of the cache), the timbral convolutions as
im2col matrix products, and as products in the Fourier domain along the bands (a third of the multiply-adds, but
memory-bound: 13 % quicker one patch at a time, slower two at a time, and 1e-4 off before the max).
Eval only: there is no training code, and the modules hold no dropout.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..frontends.musicnn_input import N_MELS, PATCH_FRAMES
from .modules import channels_last

WEIGHTS_FOLDER = Path(__file__).with_name("musicnn_weights")
MODEL_NAMES = ("MSD_musicnn", "MTT_musicnn")
INPUT_SHAPE = (PATCH_FRAMES, N_MELS)
"""One patch as the networks were trained on it (3 s); being convolutional with pooling over time, they accept
other lengths too, as musicnn's `input_length` allows."""
TAGS = 50
EMBEDDING_SIZE = 200
BATCH_NORM_EPSILON = 1e-3  # tf.compat.v1.layers.batch_normalization's default

TIMBRAL_FILTERS = 204  # int(1.6 * 128)
TIMBRAL_BANDS = (int(0.4 * N_MELS), int(0.7 * N_MELS))  # 38, 67
TIMBRAL_FRAMES = 7
TEMPORAL_FILTERS = 51  # int(1.6 * 32)
TEMPORAL_FRAMES = (128, 64, 32)
FRONT_END_CHANNELS = 2 * TIMBRAL_FILTERS + 3 * TEMPORAL_FILTERS  # 561
MID_END_FILTERS = 64
MID_END_FRAMES = 7
FEATURE_CHANNELS = FRONT_END_CHANNELS + 3 * MID_END_FILTERS  # 753


def _same_padding(frames: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along time for a kernel of `frames`: the odd zero goes after."""
    return (frames - 1) // 2, frames // 2


def _batch_norm(channels: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(channels, eps=BATCH_NORM_EPSILON)


class Musicnn(nn.Module):
    """Log-mel patches (batch, 187, 96) → {"taggram", "logits": (batch, 50), "embedding": (batch, 200)}.

    The checkpoint's own layout (module docstring): every layer and batch norm as TensorFlow ran it. The
    converted state dicts are keyed for this class; `FoldedMusicnn` is built from it for serving.
    """

    def __init__(self, tags: int = TAGS):
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1, eps=BATCH_NORM_EPSILON)
        self.timbral = nn.ModuleList(nn.Conv2d(1, TIMBRAL_FILTERS, (TIMBRAL_FRAMES, b)) for b in TIMBRAL_BANDS)
        self.timbral_norms = nn.ModuleList(
            nn.BatchNorm2d(TIMBRAL_FILTERS, eps=BATCH_NORM_EPSILON) for _ in TIMBRAL_BANDS
        )
        self.temporal = nn.ModuleList(nn.Conv2d(1, TEMPORAL_FILTERS, (f, 1)) for f in TEMPORAL_FRAMES)
        self.temporal_norms = nn.ModuleList(
            nn.BatchNorm2d(TEMPORAL_FILTERS, eps=BATCH_NORM_EPSILON) for _ in TEMPORAL_FRAMES
        )
        inputs = (FRONT_END_CHANNELS, MID_END_FILTERS, MID_END_FILTERS)
        self.mid_end = nn.ModuleList(
            nn.Conv1d(i, MID_END_FILTERS, MID_END_FRAMES, padding=MID_END_FRAMES // 2) for i in inputs
        )
        self.mid_end_norms = nn.ModuleList(_batch_norm(MID_END_FILTERS) for _ in inputs)
        self.pool_norm = _batch_norm(2 * FEATURE_CHANNELS)
        self.dense = nn.Linear(2 * FEATURE_CHANNELS, EMBEDDING_SIZE)
        self.dense_norm = _batch_norm(EMBEDDING_SIZE)
        self.classifier = nn.Linear(EMBEDDING_SIZE, tags)
        self.eval()

    def forward(self, patches: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.input_norm(patches.unsqueeze(1))  # (batch, 1, time, bands)
        front = []
        for conv, norm in zip(self.timbral, self.timbral_norms):
            y = conv(F.pad(x, (0, 0, TIMBRAL_FRAMES // 2, TIMBRAL_FRAMES // 2)))
            front.append(norm(F.relu(y)).amax(dim=3))  # (batch, filters, time)
        for conv, norm, frames in zip(self.temporal, self.temporal_norms, TEMPORAL_FRAMES):
            y = conv(F.pad(x, (0, 0, *_same_padding(frames))))
            front.append(norm(F.relu(y)).amax(dim=3))
        features = [torch.cat(front, dim=1)]  # (batch, 561, time)
        for i, (conv, norm) in enumerate(zip(self.mid_end, self.mid_end_norms)):
            y = norm(F.relu(conv(features[-1])))
            features.append(y if i == 0 else y + features[-1])
        return _back_end(self, torch.cat(features, dim=1))


def _pool_over_time(features: torch.Tensor) -> torch.Tensor:
    """(batch, channels, time) → (batch, 2·channels): max and mean of each channel, interleaved as TF flattened them."""
    return torch.stack((features.amax(dim=2), features.mean(dim=2)), dim=2).flatten(1)


def _back_end(network: Musicnn, features: torch.Tensor) -> dict[str, torch.Tensor]:
    pooled = network.pool_norm(_pool_over_time(features))
    embedding = network.dense_norm(F.relu(network.dense(pooled)))
    logits = network.classifier(embedding)
    return {"taggram": torch.sigmoid(logits), "logits": logits, "embedding": embedding}


def _scale_and_shift(norm: nn.BatchNorm1d | nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """An eval-mode batch norm as y = scale·x + shift."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - scale * norm.running_mean


class _FoldedReluNorm(nn.Module):
    """BatchNorm(ReLU(x)) with the batch norm's scale and shift already in x, as one clamp per channel.

    For scale a > 0: a·max(x, 0) + b = max(a·x + b, b); for a < 0: a·max(x, 0) + b = min(a·x + b, b); for a = 0
    both give b. So once the preceding layer computes a·x + b (weights and bias scaled by a, b added to the
    bias), ReLU and batch norm become one clamp with per-channel bounds [b, ∞) or (−∞, b]. Because the clamp
    is monotone, it also commutes with a following max over bands, and is applied after that max (on 59–96×
    fewer values in the front end).
    """

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor, dims: int):
        super().__init__()
        view = (-1,) + (1,) * dims
        inf = torch.full_like(shift, torch.inf)
        self.register_buffer("lower", torch.where(scale >= 0, shift, -inf).reshape(view))
        self.register_buffer("upper", torch.where(scale >= 0, inf, shift).reshape(view))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, self.lower, self.upper)


def _fold_into_conv(conv: nn.Conv1d | nn.Conv2d, norm) -> tuple[nn.Module, _FoldedReluNorm]:
    """The convolution computing scale·conv(x) + shift, and the clamp that finishes ReLU and batch norm on its
    output — or, for the front end's 2-D convolutions, on that output's max over bands: (batch, channels, time)."""
    scale, shift = _scale_and_shift(norm)
    folded = type(conv)(
        conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding, bias=True
    ).requires_grad_(False)
    folded.weight.copy_(conv.weight * scale.reshape((-1,) + (1,) * (conv.weight.dim() - 1)))
    folded.bias.copy_(conv.bias * scale + shift)
    return folded, _FoldedReluNorm(scale, shift, dims=1)


class FoldedMusicnn(nn.Module):
    """`Musicnn` with every batch norm folded into the layer before it and the front end channels-last: the same
    outputs (to float rounding, ≤ 1e-5 on tags), ≈ 2.8× quicker on a CPU (module docstring).

    * The input's batch norm (a·x + b, one channel) goes into the five front-end convolutions' weights and
      biases; their zero padding, which TensorFlow applied *after* that batch norm, becomes padding with the
      value −b/a, which the scaled convolution maps back to zero.
    * Each later batch norm follows a ReLU; it goes into the preceding convolution or dense layer with the
      per-channel clamp of `_FoldedReluNorm`. In the front end the max over bands is taken first, then the
      clamp. The back end's first batch norm, which precedes the dense layer, folds into it the usual way.
    """

    def __init__(self, network: Musicnn):
        super().__init__()
        with torch.no_grad():
            input_scale, input_shift = (t.item() for t in _scale_and_shift(network.input_norm))
            self.input_pad_value = -input_shift / input_scale
            self.timbral, self.timbral_clamps = self._fold_front(
                network.timbral, network.timbral_norms, input_scale, input_shift
            )
            self.temporal, self.temporal_clamps = self._fold_front(
                network.temporal, network.temporal_norms, input_scale, input_shift
            )
            self.mid_end, self.mid_end_clamps = nn.ModuleList(), nn.ModuleList()
            for conv, norm in zip(network.mid_end, network.mid_end_norms):
                folded, clamp = _fold_into_conv(conv, norm)
                self.mid_end.append(folded)
                self.mid_end_clamps.append(clamp)
            pool_scale, pool_shift = _scale_and_shift(network.pool_norm)
            dense_scale, dense_shift = _scale_and_shift(network.dense_norm)
            weight = network.dense.weight * pool_scale[None, :]
            bias = network.dense.bias + network.dense.weight @ pool_shift
            self.dense = nn.Linear(weight.shape[1], weight.shape[0]).requires_grad_(False)
            self.dense.weight.copy_(weight * dense_scale[:, None])
            self.dense.bias.copy_(bias * dense_scale + dense_shift)
            self.dense_clamp = _FoldedReluNorm(dense_scale, dense_shift, dims=0)
            self.classifier = network.classifier.requires_grad_(False)
        self.eval()

    @staticmethod
    def _fold_front(convs, norms, input_scale: float, input_shift: float) -> tuple[nn.ModuleList, nn.ModuleList]:
        folded_convs, clamps = nn.ModuleList(), nn.ModuleList()
        for conv, norm in zip(convs, norms):
            folded, clamp = _fold_into_conv(conv, norm)
            # conv(a·x + b) = a·conv_without_bias(x) + b·Σweights + bias
            folded.bias.add_(input_shift * folded.weight.sum(dim=(1, 2, 3)))
            folded.weight.mul_(input_scale)
            folded.weight = nn.Parameter(channels_last(folded.weight), requires_grad=False)
            folded_convs.append(folded)
            clamps.append(clamp)
        return folded_convs, clamps

    def _front_end(self, x: torch.Tensor, conv: nn.Conv2d, clamp: _FoldedReluNorm, padding) -> torch.Tensor:
        """One front-end convolution, its max over bands and its clamp: (batch, filters, time). Channels-last, where
        oneDNN's convolution and max-pooling are quickest (≈ 1.5× the plain layout's speed here)."""
        y = conv(channels_last(F.pad(x, (0, 0, *padding), value=self.input_pad_value)))
        return clamp(F.max_pool2d(y, (1, y.shape[3])).squeeze(3))

    def forward(self, patches: torch.Tensor) -> dict[str, torch.Tensor]:
        x = patches.unsqueeze(1)
        timbral_padding = (TIMBRAL_FRAMES // 2,) * 2
        front = [
            self._front_end(x, conv, clamp, timbral_padding) for conv, clamp in zip(self.timbral, self.timbral_clamps)
        ]
        front += [
            self._front_end(x, conv, clamp, _same_padding(frames))
            for conv, clamp, frames in zip(self.temporal, self.temporal_clamps, TEMPORAL_FRAMES)
        ]
        features = [torch.cat(front, dim=1)]
        for i, (conv, clamp) in enumerate(zip(self.mid_end, self.mid_end_clamps)):
            y = clamp(conv(features[-1]))
            features.append(y if i == 0 else y + features[-1])
        embedding = self.dense_clamp(self.dense(_pool_over_time(torch.cat(features, dim=1))))
        logits = self.classifier(embedding)
        return {"taggram": torch.sigmoid(logits), "logits": logits, "embedding": embedding}


def weights_path(name: str) -> Path:
    if name not in MODEL_NAMES:
        raise KeyError(f"unknown musicnn model {name!r}; known: {', '.join(MODEL_NAMES)}")
    return WEIGHTS_FOLDER / f"{name}.pt"


@lru_cache(maxsize=4)
def weights_file_digest(name: str) -> str:
    """sha256 of the shipped weights file of `name`: what a head trained over them records and checks."""
    import hashlib

    return "sha256:" + hashlib.sha256(weights_path(name).read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def load_musicnn(name: str = "MSD_musicnn", folded: bool = True) -> nn.Module:
    """musicnn's pretrained network `name` ("MSD_musicnn" or "MTT_musicnn"), in eval mode, loaded once.

    `folded` (the default, for serving) gives `FoldedMusicnn`; `folded=False` the checkpoint's own layout,
    `Musicnn`, which the parity test compares with TensorFlow. The network's `tags` attribute lists its 50
    tags in output order. The cached network is shared: do not modify it.
    """
    stored = torch.load(weights_path(name), map_location="cpu", weights_only=True)
    network = Musicnn(tags=len(stored["tags"]))
    network.load_state_dict(stored["state_dict"])
    network.requires_grad_(False)
    if folded:
        network = FoldedMusicnn(network)
    network.tags = tuple(stored["tags"])
    return network
