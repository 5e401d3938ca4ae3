"""robots.txt as RFC 9309 reads it and Google implements it (pure, no network).

Groups are chosen by the crawler's product token (case-insensitive; every group naming it is
merged, and `*` applies only when none does); the longest matching rule wins and Allow wins a
tie; `*` matches any run of characters and a final `$` anchors the end; paths and patterns are
compared in one percent-encoded normal form. Only the first 500 KiB are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

MAX_BYTES = 500 * 1024
Policy = Literal["parse", "allow_all", "deny_all"]

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters a URI may carry unescaped (RFC 3986 unreserved + reserved); all else is escaped.
_URI_SAFE = _UNRESERVED | frozenset(":/?#[]@!$&'()*+,;=")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ESCAPE_SPLIT = re.compile(r"(%[0-9A-Fa-f]{2})")
_TOKEN = re.compile(r"[A-Za-z_-]*")
_KEYS = {
    "user-agent": "user-agent",
    "useragent": "user-agent",
    "user agent": "user-agent",
    "allow": "allow",
    "disallow": "disallow",
    "dissallow": "disallow",
    "dissalow": "disallow",
    "disalow": "disallow",
    "diasllow": "disallow",
    "disallaw": "disallow",
    "crawl-delay": "crawl-delay",
    "crawldelay": "crawl-delay",
    "sitemap": "sitemap",
    "site-map": "sitemap",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One Allow or Disallow line, its pattern already in normal form."""

    allow: bool
    pattern: str


@dataclass(frozen=True, slots=True)
class Group:
    """The rules that one or more user-agent lines share, and each agent's crawl delay.

    Google's grouping ignores Crawl-delay lines, so `User-agent: a / Crawl-delay: 5 /
    User-agent: b / Crawl-delay: 2` is one group; each delay belongs to the agent lines
    just above it.
    """

    agents: tuple[str, ...]
    rules: tuple[Rule, ...]
    delays: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Robots:
    """A parsed robots.txt: its groups in file order, and the sitemaps it names."""

    groups: tuple[Group, ...]
    sitemaps: tuple[str, ...]

    def groups_for(self, user_agent: str) -> tuple[Group, ...]:
        """Every group naming the crawler's product token, else every `*` group."""
        token = product_token(user_agent).lower()
        named = tuple(g for g in self.groups if token and token in g.agents)
        return named or tuple(g for g in self.groups if "*" in g.agents)

    def is_allowed(self, user_agent: str, url: str) -> bool:
        """Whether the crawler may fetch `url` (absolute, or a path with its query)."""
        path = normalize(path_of(url))
        if path == "/robots.txt":
            return True
        best_allow, best_disallow = -1, -1
        for group in self.groups_for(user_agent):
            for rule in group.rules:
                if rule.pattern and matches(path, rule.pattern):
                    if rule.allow:
                        best_allow = max(best_allow, len(rule.pattern))
                    else:
                        best_disallow = max(best_disallow, len(rule.pattern))
        return best_disallow <= best_allow

    def crawl_delay(self, user_agent: str) -> float | None:
        """The crawler's first Crawl-delay, in seconds, if its groups give one."""
        groups = self.groups_for(user_agent)
        token = product_token(user_agent).lower()
        key = token if any(token in g.agents for g in groups) else "*"
        for group in groups:
            for agent, seconds in group.delays:
                if agent == key:
                    return seconds
        return None


def product_token(user_agent: str) -> str:
    """`QuarryBot` from `QuarryBot/0.1 (+https://quarry.dev/bot)`: the RFC 9309 token."""
    match = _TOKEN.match(user_agent.strip())
    return match.group(0) if match else ""


def path_of(url: str) -> str:
    """The path, params and query of `url` (no fragment), `/` when empty, as written."""
    url = url.split("#", 1)[0]
    if not url.startswith("/"):
        scheme = url.find("://")
        start = scheme + 3 if scheme >= 0 else 0
        cut = min((i for i in (url.find("/", start), url.find("?", start)) if i >= 0), default=-1)
        url = url[cut:] if cut >= 0 else ""
    elif url.startswith("//"):  # network-path reference: skip the authority
        rest = url[2:]
        cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=-1)
        url = rest[cut:] if cut >= 0 else ""
    if not url.startswith("/"):
        url = "/" + url
    return url


def normalize(text: str) -> str:
    """One percent-encoded form: unreserved escapes decoded, other escapes upper-cased, and
    non-ASCII or unsafe characters escaped as UTF-8. So `/a<b` and `/a%3cb` compare equal,
    while `%2F` stays distinct from `/`."""

    out = []
    for part in _ESCAPE_SPLIT.split(text):
        if _ESCAPE.fullmatch(part):
            char = chr(int(part[1:], 16))
            out.append(char if char in _UNRESERVED else part.upper())
            continue
        for char in part:
            if char in _URI_SAFE or char == "%":
                out.append(char)
            else:
                out.extend(f"%{b:02X}" for b in char.encode("utf-8"))
    return "".join(out)


def matches(path: str, pattern: str) -> bool:
    """Whether `pattern` (with `*` and a final `$`) matches the start of `path`.

    Tracks the set of path positions reachable so far, like Google's matcher: linear in the
    pattern times the path, with none of a regex engine's backtracking.
    """
    positions = [0]
    end = len(path)
    for i, char in enumerate(pattern):
        if char == "$" and i == len(pattern) - 1:
            return positions[-1] == end
        if char == "*":
            positions = list(range(positions[0], end + 1))
            continue
        positions = [p + 1 for p in positions if p < end and path[p] == char]
        if not positions:
            return False
    return True


def _split(line: str) -> tuple[str, str] | None:
    """`key: value`, or Google's lenient `key value` when the colon is missing."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    if ":" in line:
        key, value = line.split(":", 1)
    else:
        pieces = line.split(None, 1)
        if len(pieces) != 2:
            return None
        key, value = pieces
    return key.strip().lower(), value.strip()


def _delay(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


@lru_cache(maxsize=64)
def parse(robots_txt: str) -> Robots:
    """Parse robots.txt text, tolerating a BOM, any line ending, comments and unknown lines.

    Rules before the first user-agent line belong to no group and are dropped. A user-agent
    line after a rule starts a new group; consecutive ones share the next rules.
    """
    data = robots_txt.encode("utf-8")
    if len(data) > MAX_BYTES:  # drop the cut-off last line rather than read half a rule
        robots_txt = data[:MAX_BYTES].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    groups: list[Group] = []
    agents: list[str] = []
    rules: list[Rule] = []
    delays: dict[str, float] = {}
    recent: list[str] = []  # the agent lines the next Crawl-delay applies to
    sitemaps: list[str] = []
    in_rules = after_member = False

    def close() -> None:
        if agents:
            groups.append(Group(tuple(agents), tuple(rules), tuple(delays.items())))

    for line in robots_txt.lstrip("\ufeff").splitlines():
        pair = _split(line)
        if pair is None:
            continue
        key, value = _KEYS.get(pair[0], pair[0]), pair[1]
        if key == "sitemap":
            if value:
                sitemaps.append(value)
        elif key == "user-agent":
            if in_rules:
                close()
                agents, rules, delays, in_rules = [], [], {}, False
            if after_member:
                recent, after_member = [], False
            star = value.startswith("*") and (len(value) == 1 or value[1].isspace())
            token = "*" if star else product_token(value).lower()
            if token:
                agents.append(token)
                recent.append(token)
        elif key in ("allow", "disallow") and agents:
            in_rules = after_member = True
            rules.extend(_rules(key == "allow", value))
        elif key == "crawl-delay" and agents:
            after_member = True
            seconds = _delay(value)
            if seconds is not None:
                for agent in recent:
                    delays.setdefault(agent, seconds)
    close()
    return Robots(tuple(groups), tuple(sitemaps))


def _rules(allow: bool, value: str) -> list[Rule]:
    """The rule a line states; Google also lets `Allow: /dir/index.html` allow `/dir/`."""
    pattern = normalize(value)
    found = [Rule(allow, pattern)]
    for index in ("/index.htm", "/index.html"):
        if allow and pattern.endswith(index):
            found.append(Rule(allow, pattern[: -len(index)] + "/$"))
    return found


def is_allowed(robots_txt: str, user_agent: str, url: str) -> bool:
    """Whether `user_agent` may fetch `url` under this robots.txt (see the module doc)."""
    return parse(robots_txt).is_allowed(user_agent, url)


def crawl_delay(robots_txt: str, user_agent: str) -> float | None:
    """Seconds to wait between requests to the host, as the crawler's group asks, if at all."""
    return parse(robots_txt).crawl_delay(user_agent)


def sitemaps(robots_txt: str) -> list[str]:
    """The Sitemap URLs the file names, in order, whatever group they sit in."""
    return list(parse(robots_txt).sitemaps)


def policy_for_status(status: int | None) -> Policy:
    """What a robots.txt fetch's outcome means (RFC 9309 §2.3.1, as Google applies it).

    2xx: parse the body. 4xx other than 429, or a redirect chain that never ended: no file,
    so everything is allowed. 429, 5xx, or no answer at all (None: unreachable, timed out):
    assume complete disallow until a later fetch succeeds.
    """
    if status is not None and 200 <= status < 300:
        return "parse"
    if status is not None and 300 <= status < 500 and status != 429:
        return "allow_all"
    return "deny_all"
