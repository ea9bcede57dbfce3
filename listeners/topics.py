"""Topic queries in Lucene syntax: parsed once with luqum, matched against mentions, translated to Elasticsearch.

Supported: AND, OR, NOT (also `-term` and `+term`), implicit AND between terms, quoted phrases, wildcards
(`*`, `?`), grouping, and the fields `title:`, `text:` and `lang:`. Anything else (ranges, fuzzy, regex,
proximity, boosts, other fields) is refused with an error that names the query, so a topic never silently
means something other than what its author wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser
from luqum.utils import UnknownOperationResolver

TEXT_FIELDS = ("title", "text")
KNOWN_FIELDS = (*TEXT_FIELDS, "lang")
LANGUAGE_FIELD = "language"  # the indexed field that the query syntax calls `lang:`

_WORD_RE = re.compile(r"\w+")


class QueryError(ValueError):
    """A topic query that cannot be parsed or uses syntax earful does not support."""


@dataclass(frozen=True, slots=True)
class MatchTarget:
    """What a query is matched against: normalized tokens of title and text, and the language."""

    title_tokens: tuple[str, ...]
    text_tokens: tuple[str, ...]
    lang: str

    @classmethod
    def build(cls, title: str, text: str, lang: str) -> MatchTarget:
        """Normalize title and text the way queries are normalized."""
        return cls(tokenize(title), tokenize(text), lang)

    def tokens(self, field: str | None) -> tuple[tuple[str, ...], ...]:
        if field == "title":
            return (self.title_tokens,)
        if field == "text":
            return (self.text_tokens,)
        return (self.title_tokens, self.text_tokens)


Predicate = Callable[[MatchTarget], bool]


def normalize(text: str) -> str:
    """Case-fold and NFKC-normalize, so that queries and texts compare alike."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> tuple[str, ...]:
    """Word tokens of a text (Unicode-aware, so Persian, Arabic and German words are whole tokens)."""
    return tuple(_WORD_RE.findall(normalize(text)))


def parse_query(query: str, *, what: str = "query") -> tree.Item:
    """Parse and check a query; raises QueryError naming `what` and the problem."""
    try:
        parsed = parser.parse(query)
    except (ParseError, Exception) as exc:  # luqum raises several error types, some not ParseError
        raise QueryError(f"{what} is not a valid query ({exc}): {query!r}") from exc
    resolved = UnknownOperationResolver(resolve_to=tree.AndOperation)(parsed)
    _check_supported(resolved, what, query, field=None)
    return resolved


def _check_supported(node: tree.Item, what: str, query: str, field: str | None) -> None:
    if isinstance(node, tree.SearchField):
        if node.name not in KNOWN_FIELDS:
            raise QueryError(f"{what} uses unknown field '{node.name}' (known: {', '.join(KNOWN_FIELDS)}): {query!r}")
        if field is not None:
            raise QueryError(f"{what} nests field '{node.name}' inside field '{field}': {query!r}")
        field = node.name
    elif not isinstance(
        node,
        (
            tree.AndOperation,
            tree.OrOperation,
            tree.Not,
            tree.Prohibit,
            tree.Plus,
            tree.Group,
            tree.FieldGroup,
            tree.Word,
            tree.Phrase,
        ),
    ):
        raise QueryError(f"{what} uses unsupported syntax {type(node).__name__} ('{node}'): {query!r}")
    if isinstance(node, tree.Phrase) and not tokenize(node.value.strip('"')):
        raise QueryError(f"{what} has an empty phrase: {query!r}")
    for child in node.children:
        _check_supported(child, what, query, field)


def _word_pattern(word: str) -> re.Pattern[str] | None:
    """A regex for a word with wildcards, or None for a plain word."""
    if "*" not in word and "?" not in word:
        return None
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in word)
    return re.compile("".join(parts) + r"\Z")


def _compile(node: tree.Item, field: str | None) -> Predicate:
    if isinstance(node, tree.SearchField):
        return _compile(node.expr, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup, tree.Plus)):
        return _compile(node.children[0], field)
    if isinstance(node, (tree.Not, tree.Prohibit)):
        inner = _compile(node.children[0], field)
        return lambda target: not inner(target)
    if isinstance(node, tree.AndOperation):
        parts = [_compile(child, field) for child in node.children]
        return lambda target: all(part(target) for part in parts)
    if isinstance(node, tree.OrOperation):
        parts = [_compile(child, field) for child in node.children]
        return lambda target: any(part(target) for part in parts)
    if isinstance(node, tree.Phrase):
        return _phrase_predicate(tokenize(node.value.strip('"')), field)
    if isinstance(node, tree.Word):
        return _word_predicate(node.value, field)
    raise QueryError(f"unsupported query element {type(node).__name__}")


def _word_predicate(raw: str, field: str | None) -> Predicate:
    if field == "lang":
        wanted = raw.lower()
        return lambda target: target.lang == wanted
    pattern = _word_pattern(normalize(raw))
    if pattern is not None:
        return lambda target: any(pattern.match(tok) for toks in target.tokens(field) for tok in toks)
    words = tokenize(raw)
    if len(words) != 1:  # a "word" such as e-mail splits into tokens, as Elasticsearch's analyser would
        return _phrase_predicate(words, field)
    word = words[0]
    return lambda target: any(word in toks for toks in target.tokens(field))


def _phrase_predicate(words: tuple[str, ...], field: str | None) -> Predicate:
    n = len(words)

    def match(target: MatchTarget) -> bool:
        for toks in target.tokens(field):
            first = words[0]
            for i, tok in enumerate(toks):
                if tok == first and toks[i : i + n] == words:
                    return True
        return False

    return match


@dataclass(frozen=True)
class CompiledTopic:
    """A topic ready to match: query and exclusion predicates and the language filter."""

    name: str
    query: str
    exclude: str | None
    languages: frozenset[str]
    _include: Predicate
    _exclude: Predicate | None

    def matches(self, target: MatchTarget) -> bool:
        """True when the mention belongs to this topic."""
        if self.languages and target.lang not in self.languages:
            return False
        if not self._include(target):
            return False
        return self._exclude is None or not self._exclude(target)

    def es_query(self) -> dict[str, Any]:
        """The same topic as an Elasticsearch query (bool with the language filter and exclusions)."""
        query: dict[str, Any] = {"bool": {"filter": [to_es_query(parse_query(self.query))]}}
        if self.languages:
            query["bool"]["filter"].append({"terms": {LANGUAGE_FIELD: sorted(self.languages)}})
        if self.exclude:
            query["bool"]["must_not"] = [to_es_query(parse_query(self.exclude))]
        return query


def compile_topic(
    name: str, query: str, exclude: str | None = None, languages: list[str] | None = None
) -> CompiledTopic:
    """Compile one topic; a malformed query raises QueryError naming the topic."""
    include = _compile(parse_query(query, what=f"topic '{name}' query"), None)
    excl = _compile(parse_query(exclude, what=f"topic '{name}' exclude"), None) if exclude else None
    return CompiledTopic(name, query, exclude, frozenset(languages or ()), include, excl)


def to_es_query(node: tree.Item, field: str | None = None) -> dict[str, Any]:
    """Translate a parsed query to Elasticsearch query DSL with the same meaning as the matcher."""
    if isinstance(node, tree.SearchField):
        return to_es_query(node.expr, node.name)
    if isinstance(node, (tree.Group, tree.FieldGroup, tree.Plus)):
        return to_es_query(node.children[0], field)
    if isinstance(node, (tree.Not, tree.Prohibit)):
        return {"bool": {"must_not": [to_es_query(node.children[0], field)]}}
    if isinstance(node, tree.AndOperation):
        return {"bool": {"filter": [to_es_query(child, field) for child in node.children]}}
    if isinstance(node, tree.OrOperation):
        return {"bool": {"should": [to_es_query(c, field) for c in node.children], "minimum_should_match": 1}}
    fields = [field] if field in TEXT_FIELDS else list(TEXT_FIELDS)
    if isinstance(node, tree.Phrase):
        phrase = " ".join(tokenize(node.value.strip('"')))
        return {"multi_match": {"query": phrase, "fields": fields, "type": "phrase"}}
    if isinstance(node, tree.Word):
        if field == "lang":
            return {"term": {LANGUAGE_FIELD: node.value.lower()}}
        if _word_pattern(node.value) is not None:
            value = normalize(node.value)
            return {
                "bool": {"should": [{"wildcard": {f: {"value": value}}} for f in fields], "minimum_should_match": 1}
            }
        words = tokenize(node.value)
        query_type = "phrase" if len(words) > 1 else "best_fields"
        return {"multi_match": {"query": " ".join(words), "fields": fields, "type": query_type}}
    raise QueryError(f"unsupported query element {type(node).__name__}")


MAX_DERIVED_SEARCHES = 4  # alternatives of a derived server-side search; more ORs are left to the local filter


def derived_searches(query: str) -> list[str]:
    """Server-side search strings implied by a topic query, for networks whose search knows only words and
    "phrases" ANDed together (Bluesky, Mastodon).

    Every mention the query matches contains all the terms of at least one returned search, so the network's
    answer is a superset that the topic's compiled query then filters locally. What cannot be sent is left to the
    local filter: NOT, wildcards, `lang:` and ORs beyond MAX_DERIVED_SEARCHES alternatives. An empty list: the
    query has a branch without any plain required term (e.g. `NOT x` or `boot*`), so no search narrows it.
    """
    alternatives = _required(parse_query(query))
    if not alternatives or any(not terms for terms in alternatives):
        return []
    return [" ".join(f'"{t}"' if " " in t else t for t in terms) for terms in alternatives]


def _required(node: tree.Item) -> list[tuple[str, ...]]:
    """Alternatives of required terms: a match holds every term of at least one alternative (() = anything)."""
    anything: list[tuple[str, ...]] = [()]
    if isinstance(node, tree.SearchField):
        return anything if node.name == "lang" else _required(node.expr)
    if isinstance(node, (tree.Group, tree.FieldGroup, tree.Plus)):
        return _required(node.children[0])
    if isinstance(node, (tree.Not, tree.Prohibit)):
        return anything
    if isinstance(node, tree.OrOperation):
        found: list[tuple[str, ...]] = []
        for child in node.children:
            branch = _required(child)
            if any(not terms for terms in branch):
                return anything
            found += [terms for terms in branch if terms not in found]
        return found if len(found) <= MAX_DERIVED_SEARCHES else anything
    if isinstance(node, tree.AndOperation):
        combined: list[tuple[str, ...]] = [()]
        for child in node.children:
            branch = _required(child)
            if any(not terms for terms in branch):
                continue
            product = [a + tuple(t for t in b if t not in a) for a in combined for b in branch]
            if len(product) <= MAX_DERIVED_SEARCHES:
                combined = product
        return combined
    if isinstance(node, tree.Phrase):
        return [(" ".join(tokenize(node.value.strip('"'))),)]
    if isinstance(node, tree.Word) and _word_pattern(node.value) is None:
        words = tokenize(node.value)
        return [(" ".join(words),)] if words else anything
    return anything
