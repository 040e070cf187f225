"""The search text records are found by, the parsed query, highlighting and ranking (lib.search)."""

import pytest

from solocrm.lib.search import SEP, highlight, parse_query, rank, search_text


def test_search_text_folds_case_and_width_and_keeps_accent_free_copies():
    text = search_text("Ｆｕｌｌ Müller STRASSE")
    assert f"{SEP}full{SEP}" in text
    assert f"{SEP}müller{SEP}" in text and f"{SEP}muller{SEP}" in text
    assert text.startswith(SEP)


def test_a_name_written_without_spaces_has_every_tail_as_a_word():
    text = search_text("欧阳娜娜")
    for tail in ("欧阳娜娜", "阳娜娜", "娜娜", "娜"):
        assert f"{SEP}{tail}" in text


def test_phones_are_kept_as_their_digits_which_hold_the_national_number():
    text = search_text(phones=["+447700900097"])
    assert f"{SEP}447700900097" in text and "07700900097" not in text


def test_emails_are_kept_whole():
    text = search_text(emails=["Ada.Lovelace@Example.COM"])
    assert text == f"{SEP}ada.lovelace@example.com"


def test_short_words_are_looked_for_at_a_word_start_and_numbers_in_every_form():
    query = parse_query("张 ab 07700 900097 lovelace", "GB")
    texts = {term.typed: term.texts for term in query.terms}
    assert texts["张"] == (f"{SEP}张",)
    assert texts["ab"] == (f"{SEP}ab",)
    assert texts["lovelace"] == ("lovelace",)
    assert texts["07700 900097"] == ("7700900097",)  # found inside 447700900097
    assert "447700900097" in parse_query("+44 (0)7700 900097", "GB").terms[0].texts
    assert parse_query("ab").short and not parse_query("abc").short


def test_highlight_escapes_what_users_typed_and_marks_the_match():
    query = parse_query("ada")
    html = str(highlight('<script>alert("Ada")</script>', query))
    assert "<script>" not in html
    assert html == "&lt;script&gt;alert(&quot;<mark>Ada</mark>&quot;)&lt;/script&gt;"


def test_highlight_marks_a_short_query_and_any_case():
    assert str(highlight("Zhang Wei 张伟", parse_query("伟"))) == "Zhang Wei 张<mark>伟</mark>"
    assert str(highlight("ADA", parse_query("ada"))) == "<mark>ADA</mark>"


def test_a_whole_title_outranks_a_start_outranks_a_word_outranks_a_substring():
    query = parse_query("ada")
    scores = [rank("Ada", "", query), rank("Adam Smith", "", query), rank("Lady Ada", "", query)]
    scores += [rank("Canada Goose", "", query), rank("Bob", "ada@example.com", query), rank("Bob", "", query)]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


@pytest.mark.parametrize(
    ("text", "vendor", "helps"),
    [
        ("ada", "postgresql", True),
        ("张伟", "postgresql", True),
        ("gmail.com", "postgresql", False),  # pg_trgm sees "gmail" as a word of every such address
        ("@web.de", "postgresql", False),
        ("gmail.com", "sqlite", True),  # FTS5 trigrams keep the dot: the first pass stays exact
    ],
)
def test_the_word_start_pass_is_skipped_where_the_trigram_index_cannot_answer_it(text, vendor, helps):
    from solocrm.lib.search_index import _word_start_helps

    assert _word_start_helps(text, vendor) is helps
