from django.utils import translation

from yiwang.lib.bilingual import pick


def test_a_bilingual_label_shows_the_readers_part():
    assert pick("受理 | Accept", "en") == "Accept"
    assert pick("受理 | Accept", "zh-hans") == "受理"
    with translation.override("en"):
        assert pick("受理 | Accept") == "Accept"


def test_a_label_in_one_language_is_shown_as_written():
    assert pick("受理", "en") == "受理"
    assert pick("受理 | ", "en") == "受理"
    assert pick(None) == ""
