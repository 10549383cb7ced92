"""The example recordings that ship with the app (examples/): listed, credited, readable, and none from GTZAN."""

from __future__ import annotations

import pytest

import mgc
from mgc.data.examples import EXAMPLES, EXAMPLES_DIR, KINDS, example, examples_of
from mgc.data.gtzan import track_id
from mgc.errors import DatasetError


def test_every_file_in_the_examples_folder_is_listed_and_every_listed_file_is_there():
    assert {e.file_name for e in EXAMPLES} == {p.name for p in EXAMPLES_DIR.glob("*.ogg")}
    assert all(e.file.is_file() for e in EXAMPLES)


def test_every_example_is_credited_in_credits_md_with_its_licence():
    credits = (EXAMPLES_DIR / "CREDITS.md").read_text()
    for shipped in EXAMPLES:
        row = next(line for line in credits.splitlines() if f"`{shipped.file_name}`" in line)
        assert any(licence in row for licence in ("Public domain", "CC BY 3.0", "CC BY 4.0")), row
        assert any(licence in shipped.credit for licence in ("Public domain", "CC BY 3.0", "CC BY 4.0"))


def test_ids_are_unique_and_safe_in_a_link_and_kinds_are_known():
    ids = [e.id for e in EXAMPLES]
    assert len(ids) == len(set(ids))
    assert all(i.replace("-", "").isalnum() and i.islower() for i in ids)
    assert {e.kind for e in EXAMPLES} == set(KINDS)
    assert sum(len(examples_of(kind)) for kind in KINDS) == len(EXAMPLES)


def test_an_unknown_id_names_no_example():
    assert example("brahms").name.startswith("Brahms")
    assert example("../../etc/passwd") is None and example("") is None


def test_no_example_is_a_gtzan_clip():
    for shipped in EXAMPLES:
        with pytest.raises(DatasetError):
            track_id(shipped.file_name)


@pytest.mark.parametrize("shipped", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_every_example_decodes_to_at_least_a_second_of_audio(shipped):
    audio = mgc.load_audio(shipped.file)
    assert audio.seconds >= 1.0 and not audio.notices
