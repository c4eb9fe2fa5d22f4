"""Title keys: the one normal form titles and queries are compared in, computed in bulk.

A key is the title case-folded, accents removed, MovieLens's moved article put back in front
(``"Matrix, The"`` -> ``"the matrix"``) and punctuation turned into single spaces, so
``"Good, the Bad and the Ugly, The"`` and ``"the good the bad and the ugly"`` share a key.
Keys are computed with polars string expressions over a whole column at once (62,000 titles in
a fraction of a second) and queries go through the very same expressions, so a title and a
query typed like it always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

__all__ = ["KEY_COLUMNS", "title_key", "title_keys", "without_article", "without_article_expr"]

_ARTICLES = "the|a|an|les|la|le|il|das|die|der"
_YEAR = r"\s*\(\d{4}(?:-\d{0,4})?\)\s*$"
_BRACKET = r"\s*\(([^()]*)\)\s*$"
_LEADING_ARTICLE = re.compile(rf"^(?:{_ARTICLES}|l) ")

KEY_COLUMNS = ("full", "main", "alternative", "fuzzy")
"""Columns of :func:`title_keys`: the whole title, the title before a bracketed alternative
title, that alternative title (both null without one), and the main title without its leading
article (what typo matching compares)."""


def _key(column: pl.Expr) -> pl.Expr:
    """The key expression of a column of texts."""
    folded = (
        column.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    moved = folded.str.replace(rf"^(.*), ({_ARTICLES})$", "$2 $1").str.replace(
        r"^(.*), (l')$", "$2$1"
    )
    return moved.str.replace_all(r"[^\w]+", " ").str.strip_chars()


def without_article_expr(column: pl.Expr) -> pl.Expr:
    """:func:`without_article` as a polars expression."""
    return column.str.replace(rf"^(?:{_ARTICLES}|l) ", "")


def title_keys(titles: Sequence[str]) -> pl.DataFrame:
    """One row of keys (:data:`KEY_COLUMNS`) per title, years left out."""
    frame = pl.DataFrame({"title": pl.Series(list(titles), dtype=pl.String)})
    bare = pl.col("title").fill_null("").str.replace(_YEAR, "")
    bracket = bare.str.extract(_BRACKET, 1)
    before = bare.str.replace(_BRACKET, "")
    has_alternative = bracket.is_not_null() & (before.str.strip_chars() != "")
    alternative = bracket.str.replace(r"(?i)^(a\.k\.a\.|aka)\s+", "")
    keys = frame.select(
        _key(bare).alias("full"),
        pl.when(has_alternative).then(_key(before)).alias("main"),
        pl.when(has_alternative).then(_key(alternative)).alias("alternative"),
    )
    return keys.with_columns(
        without_article_expr(pl.coalesce("main", "full")).alias("fuzzy"),
        *(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in ("main", "alternative")),
    )


def title_key(text: str) -> str:
    """The key of one text (a title without its year, or a query)."""
    value = pl.select(_key(pl.lit(str(text), dtype=pl.String))).item()
    return str(value or "")


def without_article(key: str) -> str:
    """A key without its leading article ("the godfather" -> "godfather")."""
    return _LEADING_ARTICLE.sub("", key, count=1)
