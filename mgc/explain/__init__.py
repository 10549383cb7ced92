"""Why a model said what it said.

* `saliency` — gradient × input on the mel picture: which bands and moments pushed the model towards a
  genre; `saliency_model` names the picture run that explains a run's answers;
* `taggram` — what a network trained on ~200,000 songs hears: musicnn's own tags (not our genres) over time,
  and its top tags (`Taggram`).

Whether it should have said anything at all — is the input music? — is the not-music gate's question
(`mgc.gate`), asked of every input before any model's answer is shown.
"""

from .saliency_map import saliency, saliency_model
from .taggram import Taggram, taggram

__all__ = ["Taggram", "saliency", "saliency_model", "taggram"]
