"""The Simplified Chinese catalog is complete, keeps every placeholder, is compiled, and is used.

When one of the catalog tests fails after someone added a string, run (from the repository root)
``manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=data --ignore=build
--no-obsolete``, translate the new entries of solocrm/locale/zh_Hans/LC_MESSAGES/django.po
(remove their "fuzzy" flag), then ``manage.py compilemessages --ignore=.venv`` and commit the .mo.
"""

import gettext as stdlib_gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

CATALOG_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = CATALOG_DIR / "django.po"
MO_PATH = CATALOG_DIR / "django.mo"

# %(name)s, %(seconds).1f, %s, %d (but not the escaped %%), and str.format's {name}.
PRINTF = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|(?<!%)%[-#0 +]*\d*(?:\.\d+)?[sdifr]")
BRACES = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*\}(?!\})")
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def english(self) -> str:
        return self.msgid if self.msgid_plural is None else f"{self.msgid} / {self.msgid_plural}"


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), quoted.strip()[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (obsolete ones left out, the header included)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if current is None or current.msgid or current.msgstr:
                current = Entry(number)
                entries.append(current)
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if keyword:
            name, index, value = keyword.group(1), int(keyword.group(2) or 0), _unquote(keyword.group(3))
            if name in ("msgid", "msgctxt") and (current is None or current.msgstr):
                current = Entry(number)
                entries.append(current)
            target = (name, index)
        elif line.startswith('"') and current is not None:
            value = _unquote(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
        name, index = target
        if name == "msgstr":
            current.msgstr[index] = current.msgstr.get(index, "") + value
        elif name == "msgid":
            current.msgid += value
        elif name == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        elif name == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries) -> list[Entry]:
    """Every real message: the header (empty msgid) left out."""
    return [entry for entry in po_entries if entry.msgid]


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    # LocaleMiddleware activates the request's language and leaves it active in this thread.
    yield
    translation.deactivate()


def placeholders(text: str, printf: bool = True) -> Counter:
    return Counter((PRINTF.findall(text) if printf else []) + BRACES.findall(text))


def test_the_catalog_exists_and_holds_the_strings_of_the_application(messages):
    assert len(messages) > 300
    assert {"Contacts", "Log in", "Today"} <= {entry.msgid for entry in messages}


def test_the_header_declares_chinese_utf8_and_a_single_plural_form(po_entries):
    header = po_entries[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]


def test_no_entry_is_left_untranslated(messages):
    untranslated = [
        f"line {entry.line}: {entry.english!r}"
        for entry in messages
        if not entry.msgstr or any(not text for text in entry.msgstr.values())
    ]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(messages):
    fuzzy = [f"line {entry.line}: {entry.english!r}" for entry in messages if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy entries (check the text, then remove the flag):\n" + "\n".join(fuzzy)


def test_plural_entries_have_exactly_the_one_chinese_form(messages):
    plurals = [entry for entry in messages if entry.msgid_plural is not None]
    assert plurals
    for entry in plurals:
        assert set(entry.msgstr) == {0}, f"line {entry.line}: {entry.english!r}"


def test_every_placeholder_of_the_english_is_kept_in_the_chinese(messages):
    problems = []
    for entry in messages:
        # Chinese has one form, used for every count: it needs the placeholders of both English forms.
        # "95% interval" is no format string ("% i" is not a placeholder): xgettext marks such
        # entries no-python-format when the source says so.
        printf = "no-python-format" not in entry.flags
        wanted = placeholders(entry.msgid, printf) | placeholders(entry.msgid_plural or "", printf)
        known = set(wanted)
        for text in entry.msgstr.values():
            found = placeholders(text, printf)
            if set(wanted) - set(found) or set(found) - known:
                problems.append(f"line {entry.line}: {entry.english!r} -> {text!r}")
    assert not problems, "placeholders lost or invented:\n" + "\n".join(problems)


def test_html_tags_and_surrounding_whitespace_are_kept(messages):
    problems = []
    for entry in messages:
        for text in entry.msgstr.values():
            same_tags = Counter(HTML_TAG.findall(entry.msgid)) == Counter(HTML_TAG.findall(text))
            same_edges = (entry.msgid[:1].isspace(), entry.msgid[-1:].isspace()) == (
                text[:1].isspace(),
                text[-1:].isspace(),
            )
            if not (same_tags and same_edges):
                problems.append(f"line {entry.line}: {entry.msgid!r} -> {text!r}")
    assert not problems, "HTML tags or leading/trailing whitespace differ:\n" + "\n".join(problems)


def test_the_compiled_catalog_matches_the_po_file(messages):
    assert MO_PATH.exists(), "run manage.py compilemessages and commit the .mo"
    with MO_PATH.open("rb") as mo:
        compiled = stdlib_gettext.GNUTranslations(mo)
    stale = []
    for entry in messages:
        if entry.msgctxt is not None and entry.msgid_plural is None:
            result = compiled.pgettext(entry.msgctxt, entry.msgid)
        elif entry.msgctxt is not None:
            result = compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 2)
        elif entry.msgid_plural is None:
            result = compiled.gettext(entry.msgid)
        else:
            result = compiled.ngettext(entry.msgid, entry.msgid_plural, 2)
        if result != entry.msgstr.get(0):
            stale.append(f"line {entry.line}: {entry.english!r}")
    assert not stale, "the .mo is out of date (run compilemessages):\n" + "\n".join(stale)


def test_gettext_speaks_chinese_when_the_language_is_zh_hans():
    with translation.override("zh-hans"):
        assert translation.gettext("Contacts") == "联系人"
        assert translation.gettext("Owner") == "所有者"
        assert translation.gettext("Repeat customer") == "复购客户"
        assert translation.ngettext("%(counter)s contact", "%(counter)s contacts", 3) % {"counter": 3} == (
            "3 个联系人"
        )
    with translation.override("en"):
        assert translation.gettext("Contacts") == "Contacts"


@pytest.mark.django_db
def test_the_login_page_follows_the_browsers_accept_language(client, owner):
    chinese = client.get("/accounts/login/", headers={"accept-language": "zh-Hans,zh;q=0.9,en;q=0.5"})
    page = chinese.content.decode()
    assert chinese.status_code == 200
    assert '<html lang="zh-hans">' in page
    assert "登录" in page
    english = client.get("/accounts/login/", headers={"accept-language": "en"}).content.decode()
    assert "Log in" in english and not HAN.search(english.replace("简体中文", ""))


@pytest.mark.django_db
def test_a_browser_asking_for_zh_cn_also_gets_simplified_chinese(client, owner):
    page = client.get("/accounts/login/", headers={"accept-language": "zh-CN"}).content.decode()
    assert '<html lang="zh-hans">' in page and "登录" in page


def test_the_home_page_is_in_chinese_with_the_language_cookie(owner_client):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = owner_client.get("/").content.decode()
    assert "今天" in page
    assert "还没有客户。" in page
    assert "No customers yet" not in page


def test_choosing_chinese_in_the_language_menu_switches_the_pages(owner_client):
    response = owner_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert "退出登录" in owner_client.get("/").content.decode()
