"""Cell parsers: dates, booleans, tags, and fast e-mail / phone paths equal to lib.normalize."""

import datetime as dt
import random
import re

import phonenumbers
import pytest

from solocrm.contacts.importing import values as v
from solocrm.contacts.importing.sniff import sniff_delimiter
from solocrm.lib.normalize import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("2024-03-05", "US", dt.date(2024, 3, 5)),
        ("2024/3/5", "US", dt.date(2024, 3, 5)),
        ("2024年3月5日", "CN", dt.date(2024, 3, 5)),
        ("3/5/2024", "US", dt.date(2024, 3, 5)),
        ("3/5/2024", "GB", dt.date(2024, 5, 3)),
        ("25/12/2023", "US", dt.date(2023, 12, 25)),  # 25 cannot be a month
        ("12/25/2023", "GB", dt.date(2023, 12, 25)),
        ("05.03.2024", "US", dt.date(2024, 3, 5)),  # dotted: always day first
        ("20240305", "US", dt.date(2024, 3, 5)),
        ("45356", "US", dt.date(2024, 3, 5)),  # Excel serial
        ("5 Mar 2024", "US", dt.date(2024, 3, 5)),
        ("March 5, 2024", "US", dt.date(2024, 3, 5)),
        ("2024-03-05T10:00:00Z", "US", dt.date(2024, 3, 5)),
    ],
)
def test_it_reads_dates_in_many_spellings(text, region, expected):
    assert v.parse_date(text, region=region) == expected


@pytest.mark.parametrize("text", ["2024-02-30", "13/13/2024", "yesterday", "9999-01-01", "1e400"])
def test_it_rejects_impossible_or_out_of_range_dates(text):
    with pytest.raises(ValueError):
        v.parse_date(text)


def test_it_reads_date_times_with_offsets_and_treats_naive_ones_as_local(settings):
    settings.TIME_ZONE = "UTC"
    assert v.parse_datetime("2024-03-05 14:30:00 +0100") == dt.datetime(2024, 3, 5, 13, 30, tzinfo=dt.UTC)
    assert v.parse_datetime("5/3/2024 9:05", region="GB") == dt.datetime(2024, 3, 5, 9, 5, tzinfo=dt.UTC)


def test_birthdays_without_a_year_are_kept_as_month_and_day():
    assert v.parse_birthday("--03-05", "US") == (None, "03-05")
    with pytest.raises(ValueError):
        v.parse_birthday("--13-05", "US")


def test_it_reads_yes_and_no_in_several_languages():
    assert [v.parse_bool(x) for x in ("Yes", "TRUE", "1", "是", "ja")] == [True] * 5
    assert [v.parse_bool(x) for x in ("no", "False", "0", "否")] == [False] * 4
    with pytest.raises(ValueError):
        v.parse_bool("maybe")


def test_it_splits_tags_and_drops_googles_system_labels():
    assert v.parse_tags("* myContacts ::: Friends ::: * starred") == ["Friends", "starred"]
    assert v.parse_tags("vip; VIP, news | b2b") == ["vip", "news", "b2b"]
    with pytest.raises(ValueError):
        v.parse_tags("x" * 61)


def test_it_takes_the_domain_of_a_web_address():
    assert v.web_domain("https://www.Example.com/about") == "example.com"
    with pytest.raises(ValueError):
        v.web_domain("not a site")


@pytest.mark.parametrize(
    "text",
    [
        "Ada@Example.COM",
        " a.b+c@x.io ",
        "mailto:a@b.io",
        "<a@b.io>",
        "user@localhost",
        "a..b@x.io",
        "x@[127.0.0.1]",
        '"quoted"@x.io',
        "ü@x.de",
        "a@münchen.de",
        "a@-x.io",
        "a@x.c",
        "a@x." + "c" * 70,
        "x" * 250 + "@a.io",
    ],
)
def test_the_fast_email_path_agrees_with_normalize_email(text):
    try:
        expected = normalize_email(text)
    except ValueError:
        with pytest.raises(ValueError):
            v.email(text)
    else:
        assert v.email(text) == expected


def _phone_samples() -> list[tuple[str, str]]:
    """Example numbers of every region in E.164 and national spellings, plus mangled variants."""
    rng = random.Random(7)
    samples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            digits = e164[1:]
            samples += [
                (e164, "US"),
                (national, region),
                (national, "US"),
                ("+" + digits[:-1], "US"),
                ("+" + digits + str(rng.randrange(10)), region),
                (digits, region),
            ]
    return samples


def test_the_fast_phone_path_agrees_with_normalize_phone_for_every_region():
    for text, region in _phone_samples():
        try:
            expected = normalize_phone(text, region)
        except ValueError:
            with pytest.raises(ValueError):
                v.phone(text, region)
        else:
            assert v.phone(text, region) == expected, (text, region)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ("name\nAda\n", ","),
    ],
)
def test_it_sniffs_the_delimiter(text, expected):
    assert sniff_delimiter(text) == expected


@pytest.mark.parametrize(
    "text",
    ["٢٠٢٥٥٥٠١٤٣", "+1٢٠٢٥٥٥٠١٤٣", "(202) ５５５-0143", "２０２５５５０１４３", "+１２０２５５５０１４３"],
)
def test_the_fast_phone_path_gives_ascii_digits_for_non_ascii_ones(text):
    assert v.phone(text, "US") == normalize_phone(text, "US") == "+12025550143"


@pytest.mark.parametrize(
    "text",
    [
        "vip",
        "vip, b2b",
        " vip ,b2b,, ",
        "a,\u3000b",
        "vip,VIP",
        "* starred, x",
        "a;b",
        "a|b",
        "a ::: b",
        "a:b",
    ],
)
def test_the_comma_only_tag_split_agrees_with_the_full_split(text):
    # the full rule, as parse_tags applies it when the cell has other separators
    parts = [p.strip() for p in re.split(r"\s*(?::::|[,;|])\s*", text)]
    expected = []
    for name in parts:
        if name.startswith("* "):
            name = "" if name[2:].lower() in ("mycontacts", "my contacts") else name[2:].strip()
        if name and name.lower() not in {e.lower() for e in expected}:
            expected.append(name)
    assert v.parse_tags(text) == expected
