"""The conversation as rich text, without Qt: each message a card with its role, its Markdown (tables,
lists, emphasis) rendered, and each fenced code block framed with its language, highlighted by Pygments
and given a Copy link that carries exactly the block's code.

Raw HTML in a message is never markup (markdown-it escapes it), images are not drawn (a path in an answer
must not load a local file), and only web links are made links.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

# The scheme of a code block's Copy link: ``hearth-copy:<index>``. A link an answer writes with this
# scheme is refused, so only the page's own Copy links use it.
COPY_SCHEME = "hearth-copy"
_WEB = ("http://", "https://")  # what the page opens in the browser; nothing else becomes a link


@dataclass(frozen=True)
class Colors:
    """The card and code colours for the theme in use (CSS colour strings)."""

    dark: bool
    text: str
    muted: str
    user_card: str
    assistant_card: str
    border: str
    code_background: str
    link: str

    @staticmethod
    def for_theme(dark: bool) -> Colors:
        if dark:
            return Colors(True, "#e6e6e6", "#9aa0a6", "#2f3b4c", "#262a30", "#3c434d", "#1b1e23", "#8ab4f8")
        return Colors(False, "#1f2328", "#6e7781", "#e8f0fe", "#f6f8fa", "#d0d7de", "#ffffff", "#0b57d0")


@dataclass(frozen=True)
class Card:
    """One message as the transcript shows it."""

    role: str  # "user", "assistant" or "system"
    title: str  # the role in the reader's language
    text: str  # Markdown
    note: str = ""  # how it ended ("stopped", "failed: …"), plain text; "" when complete or under way


@dataclass
class Transcript:
    html: str
    code_blocks: list[str] = field(default_factory=list)  # the n-th Copy link copies the n-th block


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(_WEB)


def _lexer(language: str) -> Lexer:
    if language:
        try:
            # Blank lines at either end are kept: Copy gives exactly what the block shows.
            return get_lexer_by_name(language, stripnl=False)
        except ClassNotFound:
            pass  # a language Pygments does not know is shown plain
    plain: Lexer = TextLexer(stripnl=False)
    return plain


def language_of(info: str) -> str:
    """The language a fence names (```` ```python title=x ```` → ``python``)."""
    return info.strip().split(maxsplit=1)[0] if info.strip() else ""


def code_of(content: str) -> str:
    """A fence's code as the user copies it: without the newline that ends its last line."""
    return content[:-1] if content.endswith("\n") else content


class _Renderer:
    def __init__(self, colors: Colors, copy_label: str, code_label: str) -> None:
        self.colors = colors
        self.copy_label = copy_label
        self.code_label = code_label
        self.blocks: list[str] = []
        self.formatter = HtmlFormatter(
            nowrap=True, noclasses=True, style="github-dark" if colors.dark else "default"
        )
        md = MarkdownIt("commonmark", {"html": False, "breaks": True})
        md.enable(["table", "strikethrough"])
        md.disable("image")
        md.validateLink = _safe_link  # type: ignore[method-assign]

        # markdown-it calls a rule as a method of its renderer: the renderer comes first.
        def fence(_renderer: object, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
            return self._fence(tokens[idx])

        md.add_render_rule("fence", fence)
        md.add_render_rule("code_block", fence)
        self.md = md

    def _fence(self, token: Token) -> str:
        code = code_of(token.content)
        index = len(self.blocks)
        self.blocks.append(code)
        language = language_of(token.info) if token.type == "fence" else ""
        lexer = _lexer(language)
        body = highlight(code, lexer, self.formatter) if code else ""
        c = self.colors
        label = html.escape(language or self.code_label)
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" border="1" bgcolor="{c.code_background}"'
            f' style="border-color:{c.border}; border-style:solid; margin-top:4px; margin-bottom:4px">'
            # The header is a table of its own, without borders: the label left, Copy right, no rule between.
            f'<tr><td><table width="100%" cellspacing="0" cellpadding="0" border="0"><tr>'
            f'<td><span style="color:{c.muted}; font-size:small">{label}</span></td>'
            f'<td align="right"><a href="{COPY_SCHEME}:{index}" style="color:{c.link}; text-decoration:none">'
            f"{html.escape(self.copy_label)}</a></td></tr></table></td></tr>"
            f'<tr><td><pre style="margin:0">{body.rstrip(chr(10))}</pre></td></tr></table>\n'
        )

    def markdown(self, text: str) -> str:
        out: str = self.md.render(text)
        c = self.colors
        # markdown-it writes bare tags: Qt draws a table without a border unless asked.
        return out.replace(
            "<table>",
            f'<table border="1" cellspacing="0" cellpadding="4" style="border-color:{c.border};'
            ' border-style:solid">',
        )


# Cards already rendered, by what decides their HTML: while an answer streams the page is drawn again
# every tick, and only the card under way has changed.
_CACHE_SIZE = 512
_cards: OrderedDict[tuple[Card, Colors, str, str, int], tuple[str, list[str]]] = OrderedDict()
_renderers: dict[tuple[Colors, str, str], _Renderer] = {}


def _card(
    card: Card, colors: Colors, copy_label: str, code_label: str, first_block: int
) -> tuple[str, list[str]]:
    key = (card, colors, copy_label, code_label, first_block)
    known = _cards.get(key)
    if known is not None:
        _cards.move_to_end(key)
        return known
    r = _renderers.get(key[1:4])
    if r is None:
        r = _renderers[key[1:4]] = _Renderer(colors, copy_label, code_label)
    r.blocks = [""] * first_block  # the Copy links of this card number on from the cards before it
    background = colors.user_card if card.role == "user" else colors.assistant_card
    note = f' <i style="color:{colors.muted}">({html.escape(card.note)})</i>' if card.note else ""
    text = (
        f'<table width="100%" cellspacing="0" cellpadding="10" bgcolor="{background}"'
        f' style="margin-bottom:10px; border-color:{colors.border}; border-style:solid" border="1">'
        f'<tr><td><p style="margin:0"><b style="color:{colors.muted}">{html.escape(card.title)}</b>'
        f"{note}</p>"
        f"{r.markdown(card.text)}</td></tr></table>"
    )
    done = _cards[key] = (text, r.blocks[first_block:])
    if len(_cards) > _CACHE_SIZE:
        _cards.popitem(last=False)
    return done


def render(cards: Sequence[Card], colors: Colors, copy_label: str, code_label: str) -> Transcript:
    """The cards as one rich-text document for a text view; ``copy_label`` is the Copy link's word,
    ``code_label`` names a block whose fence names no language."""
    parts: list[str] = []
    blocks: list[str] = []
    for card in cards:
        text, own = _card(card, colors, copy_label, code_label, len(blocks))
        parts.append(text)
        blocks.extend(own)
    body = "\n".join(parts)
    return Transcript(f'<html><body style="color:{colors.text}">{body}</body></html>', blocks)


def copy_index(url: str) -> int | None:
    """The code block a Copy link points at, or None for any other link."""
    scheme, _, rest = url.partition(":")
    if scheme != COPY_SCHEME or not rest.isdigit():
        return None
    return int(rest)
