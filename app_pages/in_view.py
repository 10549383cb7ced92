"""Bring a new answer into view: a class watching a projector must see it appear, not a button changing colour.

The Classify page draws its answer below the model picker, the source choice and the example gallery: at
1024×768 or on a phone that is one to two screens down. Once per new answer (a new piece of audio, model or
split), a few lines of script scroll the answer's container to the top of the window; a rerun of the same answer
(opening an expander, a download) leaves the scroll where the visitor put it.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

_SCROLLED = "in_view_scrolled"  # session state: container key → the answer it was last scrolled to

# Streamlit gives a keyed container the class st-key-<key>. The header (3.75 rem) floats over the page's top,
# hence the margin. The element may be drawn a moment after this script arrives: try for up to two seconds.
_SCRIPT = """<script>
(() => {{
  let tries = 0;
  const go = () => {{
    const target = document.querySelector({selector});
    if (target) {{
      target.style.scrollMarginTop = "4.5rem";
      target.scrollIntoView({{block: "start", behavior: "instant"}});
    }} else if (tries++ < 40) {{
      setTimeout(go, 50);
    }}
  }};
  go();
}})(); /* {answer} */
</script>"""


def keep_in_view(key: str, answer: str) -> None:
    """Scroll the container made with `st.container(key=key)` into view when `answer` (what identifies the shown
    answer) differs from the last one scrolled to in this session; call it after the container is drawn."""
    scrolled = st.session_state.setdefault(_SCROLLED, {})
    if scrolled.get(key) == answer:
        return
    scrolled[key] = answer
    # The answer's digest in the script: a new answer is a new element, so the browser runs the script again.
    token = hashlib.blake2b(answer.encode(), digest_size=8).hexdigest()
    script = _SCRIPT.format(selector=json.dumps(f".st-key-{key}"), answer=token)
    st.html(script, unsafe_allow_javascript=True)
