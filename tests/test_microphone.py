"""Whether the browser lends the page a microphone (secure contexts), and what the page says when it will not."""

from __future__ import annotations

import pytest

from mgc.serve.microphone import gives_microphone, microphone_refusal


@pytest.mark.parametrize(
    "url",
    [
        "https://mgc.streamlit.app/classify",
        "https://192.168.1.20:8501/",
        "http://localhost:8501/classify",
        "http://LOCALHOST:8501/",
        "http://app.localhost:8501/",
        "http://127.0.0.1:8501/",
        "http://127.1.2.3:8501/",
        "http://[::1]:8501/",
    ],
)
def test_https_and_this_computer_get_a_microphone(url):
    assert gives_microphone(url)
    assert microphone_refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.1.20:8501/classify",
        "http://10.0.0.5/",
        "http://teacher-laptop.local:8501/",
        "http://localhost.example.org:8501/",
        "http://[fe80::1]:8501/",
    ],
)
def test_plain_http_to_another_computer_gets_no_microphone(url):
    assert not gives_microphone(url)


def test_the_refusal_names_the_address_and_says_what_to_do():
    said = microphone_refusal("http://192.168.1.20:8501/classify")
    assert "http://192.168.1.20:8501" in said
    assert "will not give it a microphone" in said
    assert "http://localhost:8501" in said and "https" in said


def test_an_unknown_address_says_nothing():
    # AppTest and old browsers report no URL: the page cannot know, so it does not warn
    assert microphone_refusal(None) is None
    assert microphone_refusal("") is None
