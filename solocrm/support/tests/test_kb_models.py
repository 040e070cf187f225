"""The knowledge base's models and services: Markdown made safe, slugs, language fallback,
publishing, votes."""

from html.parser import HTMLParser

import pytest

from solocrm.support.kb import services
from solocrm.support.kb.choices import ArticleStatus
from solocrm.support.kb.markdown import plain_text, render
from solocrm.support.kb.models import Article, ArticleVote, article_search_text, normalise_language
from solocrm.users.models import AuditLog


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        '<a href="https://x" onclick="alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<iframe src=https://evil></iframe>",
        "# <svg onload=alert(1)>",
    ],
)
def test_markdown_never_produces_script(markdown):
    tags = _tags(render(markdown))
    assert not {name for name, _attrs in tags} & {"script", "iframe", "svg", "object", "embed"}
    for _name, attrs in tags:
        for attr, value in attrs:
            assert not attr.startswith("on")
            assert not (value or "").strip().lower().startswith(("javascript:", "data:"))


def _tags(html: str) -> list[tuple[str, list]]:
    """Every start tag of ``html`` with its attributes, as a browser's parser sees them."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_markdown_keeps_what_articles_need():
    html = render(
        "## Step 1\n\n1. **Open** *it*\n2. `code`\n\n> note\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~"
    )
    for piece in ('<h2 id="h-step-1">', "<ol>", "<strong>Open</strong>", "<code>code</code>", "<blockquote>",
                  "<table>", "<s>old</s>"):  # fmt: skip
        assert piece in html
    link = render("[site](https://example.com)")
    assert 'href="https://example.com"' in link and 'rel="noopener noreferrer nofollow"' in link


def test_repeated_headings_get_distinct_anchors():
    html = render("# FAQ\n\n# FAQ\n\n# 常见问题")
    assert 'id="h-faq"' in html and 'id="h-faq-2"' in html and 'id="h-常见问题"' in html


def test_plain_text_is_short_and_unescaped():
    assert plain_text("# Hi & bye\n\nmore " * 50, length=20).endswith("…")
    assert plain_text("Tom & Jerry") == "Tom & Jerry"


def test_languages_are_normalised():
    assert normalise_language("zh-CN") == normalise_language("zh_Hans") == "zh-hans"
    assert normalise_language("en-GB") == "en"
    assert normalise_language("fr") is None and normalise_language("") is None
    # Exact str, not the enum: the language goes into a response header, which wsgiref checks.
    assert type(normalise_language("zh")) is str and type(normalise_language("en")) is str


def test_the_search_text_holds_each_word_once_without_chinese_tails():
    text = article_search_text("Café café", "申请退款 申请退款")
    assert text == "  café  cafe  申请退款"


@pytest.mark.django_db
def test_an_article_falls_back_to_the_other_language():
    article = services.create_article({}, {"zh-hans": {"title": "退款", "body": ""}})
    assert article.translation_for("en").language == "zh-hans"
    assert article.translation_for(None).title == "退款"
    assert article.slug.startswith("article-") and article.status == ArticleStatus.DRAFT


@pytest.mark.django_db
def test_slugs_are_made_from_the_title_and_kept_unique(owner):
    first = services.create_article({}, {"en": {"title": "Refunds & returns", "body": ""}}, actor=owner)
    second = services.create_article({}, {"en": {"title": "Refunds & returns", "body": ""}})
    assert (first.slug, second.slug) == ("refunds-returns", "refunds-returns-2")
    assert AuditLog.objects.filter(action="article.create", actor=owner).count() == 1


@pytest.mark.django_db
def test_publishing_sets_the_date_once():
    article = services.create_article({}, {"en": {"title": "A", "body": ""}})
    assert article.published_at is None
    services.update_article(article, {"status": ArticleStatus.PUBLISHED})
    first = article.published_at
    services.update_article(article, {"status": ArticleStatus.DRAFT})
    services.update_article(article, {"status": ArticleStatus.PUBLISHED})
    assert first is not None and article.published_at == first


@pytest.mark.django_db
def test_an_article_cannot_be_published_without_a_title():
    with pytest.raises(services.ArticleError):
        services.create_article({"status": ArticleStatus.PUBLISHED}, {})
    with pytest.raises(services.ArticleError):
        services.create_article({}, {"en": {"title": "", "body": "text"}})
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_one_vote_per_visitor_which_may_change_its_mind():
    article = services.create_article({}, {"en": {"title": "A", "body": ""}})
    assert services.record_vote(article, "v1", True).counted
    assert not services.record_vote(article, "v1", True).counted
    assert services.record_vote(article, "v1", False).changed
    services.record_vote(article, "v2", True)
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no, ArticleVote.objects.count()) == (1, 1, 2)


@pytest.mark.django_db
def test_the_vote_token_belongs_to_its_article():
    a = services.create_article({}, {"en": {"title": "A", "body": ""}})
    b = services.create_article({}, {"en": {"title": "B", "body": ""}})
    assert services.check_vote_token(a, services.vote_token(a))
    assert not services.check_vote_token(b, services.vote_token(a))
    assert not services.check_vote_token(a, "forged") and not services.check_vote_token(a, "")


@pytest.mark.django_db
def test_a_markdown_link_escapes_brackets_in_the_title():
    article = services.create_article(
        {"slug": "x", "status": ArticleStatus.PUBLISHED}, {"en": {"title": "A [b] \\ c", "body": ""}}
    )
    assert services.markdown_link(article) == "[A \\[b\\] \\\\ c](/help/articles/x/?lang=en)"
