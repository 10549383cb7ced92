"""Will the browser lend this page a microphone? Only to a secure context, and the page should say so when not.

Browsers give `getUserMedia` (every web recorder) only to pages from a "potentially trustworthy" origin
(W3C Secure Contexts, §3.1): https, or this computer itself (localhost, 127.0.0.0/8, ::1), or a file. A
classroom that opens the app at the laptop's LAN address over plain http (http://192.168.1.20:8501)
gets no microphone, and the recorders fail without saying why; the page says it instead.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

SECURE_SCHEMES = ("https", "wss", "file")


def gives_microphone(url: str) -> bool:
    """Whether a browser lends a microphone to a page at `url`: https, or a host that is this computer."""
    parts = urlsplit(url)
    if parts.scheme.lower() in SECURE_SCHEMES:
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:  # a name, not an address: only localhost names are trusted
        return False


def microphone_refusal(url: str | None) -> str | None:
    """What to tell a visitor whose browser will not lend this page a microphone, and what to do about it;
    None when it will, or when the address is not known (then the browser's own message is all there is)."""
    if not url or gives_microphone(url):
        return None
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return (
        f"This page was opened at {parts.scheme}://{parts.netloc}, a plain-http address of another computer, "
        "so the browser will not give it a microphone and neither recorder can record here. "
        f"Open the app on the computer that runs it, at http://localhost{port}, or serve it over https "
        "(Streamlit Community Cloud does). Uploads and the examples work here as they are."
    )
