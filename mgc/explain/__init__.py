"""Why a model said what it said, and whether it should have said anything at all.

* `saliency` — gradient × input on the mel picture: which bands and moments pushed the model towards a
  genre; `saliency_model` names the picture run that explains a run's answers.
* `music_check` — measurable reasons to doubt that the input is music at all.
"""

from .not_music import MusicCheck, music_check, normalised_entropy
from .saliency_map import saliency, saliency_model

__all__ = ["MusicCheck", "music_check", "normalised_entropy", "saliency", "saliency_model"]
