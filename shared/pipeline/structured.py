"""Structured extraction without a model: fill a user's JSON Schema from what the text shows."""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.pipeline import patterns
from shared.pipeline.entities import Entity

MAX_FIELDS = 200
MAX_DEPTH = 4
MAX_ITEMS = 20
# Enum options looked for in the text: a schema may list thousands; the text is searched once
# per option, so the list and each option are capped.
MAX_ENUM = 200
MAX_ENUM_LENGTH = 200
# How far after a field's name a bare number may sit to count as its value ("rating 4").
NEAR = 40

_KEY_VALUE = re.compile(
    r"^[ \t]*[-*•]?[ \t]*([^\n:]{1,60}?)[ \t]*[:=][ \t]*(\S[^\n]{0,500})$", re.M
)
# A byline opens its line: "By Maria Lopez", not "organised by the Music Society".
_BYLINE = re.compile(r"^[ \t]*(?:By|Von|Par|Por) ((?:[A-Z][\w'’-]+ ?){2,3})[ \t]*$", re.M)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TRUE = _words("yes true y ja oui sí si 1 wahr vrai verdadero")
_FALSE = _words("no false n nein non 0 falsch faux falso")

# Words in a field's name or title that say which kind of value it wants.
_HINTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("email", _words("email mail e_mail courriel correo")),
    ("url", _words("url link website homepage uri web site")),
    ("phone", _words("phone telephone tel mobile telefon téléphone teléfono")),
    ("price", _words("price cost amount fee salary total preis kosten prix precio")),
    ("date", _words("date published day deadline datum fecha when born")),
    ("person", _words("person people author name ceo speaker founder autor auteur")),
    (
        "organisation",
        _words("organisation organization company org employer publisher brand firm"),
    ),
    ("place", _words("place location city country venue region ort lieu ciudad")),
    ("title", _words("title headline titel titre título")),
)


@dataclass(frozen=True)
class Structured:
    """The values found for a schema's fields, and the (dotted) names of those not found."""

    values: Mapping[str, Any]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class _Context:
    text: str
    entities: tuple[Entity, ...]
    pairs: Mapping[str, str]
    language: str | None


def extract_structured(
    text: str,
    schema: Mapping[str, Any],
    *,
    entities: Sequence[Entity] = (),
    language: str | None = None,
) -> Structured:
    """Fill the properties of an object `schema` from `text`; report what stayed empty.

    Explicit "Field: value" lines win; otherwise a field's format, type, enum and the
    words of its name say what to look for (emails, URLs, dates, prices, named people,
    organisations and places, titles). Nothing is guessed: a field with no clear
    evidence is reported missing rather than filled with the first number in sight.
    Any schema is accepted; parts that are not a usable schema count as missing fields.
    """
    pairs: dict[str, str] = {}
    for m in _KEY_VALUE.finditer(text):
        pairs.setdefault(_norm(m[1]), m[2].strip())
    ctx = _Context(text, tuple(entities), pairs, language)
    values, missing = _object(schema, ctx, "", 0)
    return Structured(values=values, missing=tuple(missing[:MAX_FIELDS]))


def _object(
    schema: Any, ctx: _Context, prefix: str, depth: int
) -> tuple[dict[str, Any], list[str]]:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return {}, []
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, sub in list(props.items())[:MAX_FIELDS]:
        key = f"{prefix}{name}"
        if not isinstance(sub, Mapping):
            missing.append(key)
            continue
        if _type(sub) == "object" and depth < MAX_DEPTH:
            inner, inner_missing = _object(sub, ctx, f"{key}.", depth + 1)
            if inner:
                values[str(name)] = inner
            missing.extend(inner_missing)
            continue
        value = _field(str(name), sub, ctx)
        if value is None or value == []:
            missing.append(key)
        else:
            values[str(name)] = value
    return values, missing


def _field(name: str, sub: Mapping[str, Any], ctx: _Context) -> Any:
    kind = _type(sub)
    if kind == "object":  # nested deeper than MAX_DEPTH
        return None
    if kind == "array":
        items = sub.get("items")
        item = items if isinstance(items, Mapping) else {}
        return _all(name, {**item, "title": sub.get("title", "")}, ctx)[:MAX_ITEMS]
    explicit = _explicit(name, sub, ctx)
    if explicit is not None:
        return _convert(explicit, sub)
    found = _all(name, sub, ctx)
    return found[0] if found else None


def _explicit(name: str, sub: Mapping[str, Any], ctx: _Context) -> str | None:
    for key in (name, str(sub.get("title", ""))):
        if key and _norm(key) in ctx.pairs:
            return ctx.pairs[_norm(key)]
    return None


def _all(name: str, sub: Mapping[str, Any], ctx: _Context) -> list[Any]:
    # Every value of the kind the field asks for, in order of appearance.
    kind = _type(sub)
    enum = sub.get("enum")
    if isinstance(enum, list) and enum:
        return _enum_matches(enum, ctx.text)
    hint = _hint(name, sub)
    finder = _FINDERS.get(hint or "")
    if finder is not None:
        return [v for v in finder(ctx) if _fits(v, kind)]
    if kind in ("number", "integer"):
        return _near_numbers(name, ctx.text, kind)
    return []


def _hint(name: str, sub: Mapping[str, Any]) -> str | None:
    fmt = sub.get("format")
    if fmt in ("email", "idn-email"):
        return "email"
    if fmt in ("uri", "url", "iri"):
        return "url"
    if fmt in ("date", "date-time"):
        return "date"
    words = _norm(f"{name} {sub.get('title', '')}").split()
    # Plurals name the same kind ("speakers", "emails").
    words += [w[:-1] for w in words if w.endswith("s")]
    for hint, cues in _HINTS:
        if cues.intersection(words):
            return hint
    return None


def _entities_of(kind: str) -> Callable[[_Context], list[Any]]:
    def find(ctx: _Context) -> list[Any]:
        names = [e.text for e in ctx.entities if e.type == kind]
        if kind == "person":
            names = [m[1].strip() for m in _BYLINE.finditer(ctx.text)] + names
        return list(dict.fromkeys(names))

    return find


def _title(ctx: _Context) -> list[Any]:
    first = ctx.text.strip().split("\n", 1)[0].strip()
    return [first] if 0 < len(first) <= 200 and not first.endswith((".", ",", ";")) else []


_FINDERS: dict[str, Callable[[_Context], list[Any]]] = {
    "email": lambda ctx: list(dict.fromkeys(patterns.EMAIL.findall(ctx.text))),
    "url": lambda ctx: list(dict.fromkeys(patterns.URL.findall(ctx.text))),
    "phone": lambda ctx: [p.strip() for p in patterns.PHONE.findall(ctx.text)],
    "date": lambda ctx: list(
        dict.fromkeys(d.isoformat() for _, d in patterns.find_dates(ctx.text))
    ),
    "price": lambda ctx: [v for _, v in patterns.find_prices(ctx.text)],
    "person": _entities_of("person"),
    "organisation": _entities_of("organisation"),
    "place": _entities_of("place"),
    "title": _title,
}


def _enum_matches(enum: list[Any], text: str) -> list[Any]:
    lowered = text.lower()
    hits: list[tuple[int, Any]] = []
    for option in enum[:MAX_ENUM]:
        if isinstance(option, str) and 0 < len(option.strip()) <= MAX_ENUM_LENGTH:
            m = re.search(rf"(?<!\w){re.escape(option.lower())}(?!\w)", lowered)
            if m:
                hits.append((m.start(), option))
    return [option for _, option in sorted(hits, key=lambda hit: hit[0])]


def _near_numbers(name: str, text: str, kind: str) -> list[Any]:
    words = [w for w in _norm(name).split() if len(w) > 2]
    out: list[Any] = []
    for word in words:
        for m in re.finditer(rf"(?<!\w){re.escape(word)}", text, re.IGNORECASE):
            window = text[m.end() : m.end() + NEAR]
            for _, value in patterns.find_numbers(window)[:1]:
                if _fits(value, kind):
                    out.append(int(value) if kind == "integer" else value)
    return out


def _convert(raw: str, sub: Mapping[str, Any]) -> Any:
    kind = _type(sub)
    if kind in ("number", "integer"):
        numbers = patterns.find_numbers(raw)
        if not numbers or not _fits(numbers[0][1], kind):
            return None
        return int(numbers[0][1]) if kind == "integer" else numbers[0][1]
    if kind == "boolean":
        word = raw.strip().lower().rstrip(".")
        return True if word in _TRUE else False if word in _FALSE else None
    enum = sub.get("enum")
    if isinstance(enum, list) and enum:
        # An explicit value is compared with every option; only free text is searched
        # for the first MAX_ENUM of them.
        wanted = raw.strip().rstrip(".").casefold()
        exact = [o for o in enum if isinstance(o, str) and o.casefold() == wanted]
        matches = exact or _enum_matches(enum, raw)
        return matches[0] if matches else None
    if sub.get("format") in ("date", "date-time"):
        dates = patterns.find_dates(raw)
        return dates[0][1].isoformat() if dates else None
    return raw


def _fits(value: Any, kind: str | None) -> bool:
    if kind in ("number", "integer"):
        return isinstance(value, (int, float)) and (kind == "number" or float(value).is_integer())
    if kind == "string":
        return isinstance(value, str)
    return True


def _type(sub: Mapping[str, Any]) -> str | None:
    kind = sub.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[_\-]+|(?<=[a-z])(?=[A-Z])", " ", text).lower().split())
