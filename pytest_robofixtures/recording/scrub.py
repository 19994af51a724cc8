"""Secret scrubbing (on by default, at write time, for every section) and the secret scanner."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

PLACEHOLDER = "<scrubbed>"
KEY_PLACEHOLDER = "<scrubbed:private-key>"
#: Any placeholder we write: ``<scrubbed>``, ``<scrubbed:3>``, ``<scrubbed:private-key>``.
PLACEHOLDER_RE = re.compile(r"<scrubbed(?::[A-Za-z0-9-]+)?>")

#: ``hook(transport, entry) -> entry | None``: run on each stored interaction before it is
#: written (``transport`` is ``"http"``, ``"ssh"``, ``"roc"`` or ``"feed"``); None drops it.
ScrubHook = Callable[[str, dict[str, Any]], "dict[str, Any] | None"]

DEFAULT_HEADERS: frozenset[str] = frozenset({
    "authorization", "proxy-authorization", "project", "organization", "cookie", "set-cookie",
    "x-api-key", "x-auth-token",
})
DEFAULT_FIELDS: frozenset[str] = frozenset({
    "sshkey", "ssh_key", "private_key", "privatekey", "ovpn", "password", "passwd", "token",
    "access_token", "refresh_token", "auth_token", "_auth_token", "api_key", "apikey", "secret",
    "client_secret", "_devices", "authorization", "x_api_key", "x_auth_token",
})
DEFAULT_QUERY_PARAMS: frozenset[str] = DEFAULT_FIELDS | {"key", "sig", "signature", "code"}
# Headers whose values are credentials worth hunting for elsewhere (not ``project``: an id).
_LEARN_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "x-auth-token"})

PRIVATE_KEY_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL
)
OVPN_BLOCK_RE = re.compile(
    r"<(key|tls-auth|tls-crypt|tls-crypt-v2|secret|pkcs12)>(.*?)(?:</\1>|\Z)", re.DOTALL
)
BEARER_RE = re.compile(r"(?i)\b(bearer\s+)(?!<scrubbed)([A-Za-z0-9._~+/=-]{8,})")
MIN_LEARNED = 8


def _norm_field(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _ovpn_sub(m: re.Match[str]) -> str:
    if m.group(2).strip() == PLACEHOLDER:
        return m.group(0)
    return f"<{m.group(1)}>\n{PLACEHOLDER}\n</{m.group(1)}>"


class Scrubber:
    """Replaces secrets with a placeholder. Everything passed in extends the defaults.

    While a bundle is being written (inside :meth:`numbering`) each distinct secret value gets
    its own placeholder, ``<scrubbed:1>``, ``<scrubbed:2>``..., numbered in order of first
    appearance, so the same secret reads the same wherever it occurs (a token a response hands
    out and a later request sends back). Outside it (replay matching) every placeholder, and
    every numbered one met in input, reads plain ``<scrubbed>``: both sides of a comparison
    collapse the same way, whatever credentials the replaying client uses.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        fields: Iterable[str] = (),
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        placeholder: str = PLACEHOLDER,
        enabled: bool = True,
        hooks: Iterable[ScrubHook] = (),
    ) -> None:
        self.enabled = enabled
        self.placeholder = placeholder
        self.hooks: list[ScrubHook] = list(hooks)
        self._numbers: dict[str, int] | None = None  # value -> number, while numbering
        head, tail = (placeholder[:-1], ">") if placeholder.endswith(">") else (placeholder, "")
        self._numbered_fmt = head + ":{}" + tail
        self._numbered_re = re.compile(re.escape(head) + ":[0-9]+" + re.escape(tail))
        self._variant_of: dict[str, str] = {}  # url-quoted variant -> the secret itself
        self.fields = {_norm_field(f) for f in DEFAULT_FIELDS | set(fields)}
        self.headers = {h.lower() for h in DEFAULT_HEADERS | set(headers)}
        self.query_params = {_norm_field(q) for q in DEFAULT_QUERY_PARAMS | set(query_params)}
        self.patterns = [re.compile(p) if isinstance(p, str) else p for p in patterns]
        self._secrets: set[str] = set()
        self._literal_re: re.Pattern[str] | None = None
        for s in secrets:
            self.add_secret(s)

    def copy(self) -> Scrubber:
        """An independent scrubber with the same rules and secrets (cheaper than building one).

        What a scrubber learns later (secrets met in headers, numbering) stays with the copy.
        """
        twin = copy.copy(self)
        twin.hooks = list(self.hooks)
        twin._numbers = None
        twin._variant_of = dict(self._variant_of)
        twin._secrets = set(self._secrets)
        return twin  # fields, headers, query params and patterns are never changed after init

    # -- known literal secrets --------------------------------------------------------------
    def add_secret(self, value: str | None) -> None:
        """Scrub every occurrence of ``value`` (e.g. a live token) from now on."""
        if value and len(value) >= 4 and value != self.placeholder and value not in self._secrets:
            self._secrets.add(value)
            variants = {value, quote(value, safe="")}
            self._secrets |= {v for v in variants if len(v) >= 4}
            for v in variants:
                self._variant_of.setdefault(v, value)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._literal_re = re.compile("|".join(re.escape(s) for s in ordered))

    @property
    def secrets(self) -> frozenset[str]:
        """The literal secrets known so far."""
        return frozenset(self._secrets)

    # -- placeholders --------------------------------------------------------------------------
    @contextlib.contextmanager
    def numbering(self) -> Iterator[None]:
        """Number placeholders per distinct secret value inside the block (used when saving)."""
        saved = self._numbers
        self._numbers = {}
        try:
            yield
        finally:
            self._numbers = saved

    def placeholder_for(self, value: Any) -> str:
        """The placeholder of one secret value (numbered while :meth:`numbering`)."""
        if self._numbers is None:
            return self.placeholder
        key = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        key = self._variant_of.get(key, key)
        n = self._numbers.setdefault(key, len(self._numbers) + 1)
        return self._numbered_fmt.format(n)

    def is_placeholder(self, value: Any) -> bool:
        """True for a value that is already a placeholder."""
        return isinstance(value, str) and (
            value == self.placeholder or PLACEHOLDER_RE.fullmatch(value) is not None
            or self._numbered_re.fullmatch(value) is not None)

    def apply_hooks(self, transport: str, entry: dict[str, Any]) -> dict[str, Any] | None:
        """Run the user's hooks on one stored interaction (None: leave it out)."""
        out: dict[str, Any] | None = entry
        for hook in self.hooks:
            if out is None:
                break
            out = hook(transport, out)
        return out

    def is_secret_field(self, name: str) -> bool:
        """True when a JSON field of this name holds a secret."""
        return _norm_field(name) in self.fields

    # -- learning: values found under secret fields/headers are scrubbed everywhere ---------
    def learn(self, obj: Any) -> None:
        """Collect secret values from secret fields anywhere in ``obj`` (dicts, lists)."""
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                if isinstance(k, str) and self.is_secret_field(k):
                    self._learn_value(v)
                else:
                    self.learn(v)
        elif isinstance(obj, list):
            for v in obj:
                self.learn(v)

    def _learn_value(self, v: Any) -> None:
        if isinstance(v, str):
            if len(v) >= MIN_LEARNED and not self.is_placeholder(v):
                self.add_secret(v)
        elif isinstance(v, (Mapping, list)):
            for item in (v.values() if isinstance(v, Mapping) else v):
                self._learn_value(item)

    def learn_headers(self, headers: Mapping[str, Any]) -> None:
        """Collect credential values from auth headers."""
        for k, v in headers.items():
            if k.lower() in _LEARN_HEADERS:
                for value in v if isinstance(v, list) else [v]:
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    value = str(value)
                    self._learn_value(value)
                    parts = value.split()
                    if len(parts) == 2:
                        self._learn_value(parts[1])

    # -- scrubbing ---------------------------------------------------------------------------
    def text(self, s: str) -> str:
        """Scrub a string: private keys, VPN key blocks, bearer tokens, patterns, literals."""
        if not self.enabled or not s:
            return s
        if "PRIVATE KEY-----" in s:
            s = PRIVATE_KEY_RE.sub(KEY_PLACEHOLDER, s)
        if "<" in s and ">" in s:
            s = OVPN_BLOCK_RE.sub(_ovpn_sub, s)
        if "earer" in s or "EARER" in s:
            s = BEARER_RE.sub(lambda m: m.group(1) + self.placeholder_for(m.group(2)), s)
        for p in self.patterns:
            s = p.sub(lambda m: self.placeholder_for(m.group(0)), s)
        if self._literal_re is not None:
            s = self._literal_re.sub(lambda m: self.placeholder_for(m.group(0)), s)
        if self._numbers is None and ":" in s:
            s = self._numbered_re.sub(self.placeholder, s)  # compare modulo numbering
        return s

    def data(self, obj: Any) -> Any:
        """Scrub JSON-like data recursively (secret fields replaced whole, strings scrubbed)."""
        if not self.enabled:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, Mapping):
            out = {}
            for k, v in obj.items():
                if isinstance(k, str) and self.is_secret_field(k) and v not in (None, "", [], {}):
                    out[k] = (self.text(v) if self.is_placeholder(v)
                              else self.placeholder_for(v))
                else:
                    out[k] = self.data(v)
            return out
        if isinstance(obj, list):
            return [self.data(v) for v in obj]
        return obj

    def binary(self, data: bytes) -> bytes:
        """Scrub literal secrets (and, in text, key blocks) out of bytes."""
        if not self.enabled:
            return data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            for s in sorted(self._secrets, key=len, reverse=True):
                data = data.replace(s.encode(), self.placeholder.encode())
            return data
        return self.text(text).encode("utf-8")

    def header_values(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Scrub a header mapping (values may be lists)."""
        if not self.enabled:
            return dict(headers)
        out: dict[str, Any] = {}
        for k, v in headers.items():
            if k.lower() in self.headers:
                out[k] = ([self._header_placeholder(x) for x in v] if isinstance(v, list)
                          else self._header_placeholder(v))
            elif isinstance(v, list):
                out[k] = [self.text(str(x)) for x in v]
            else:
                out[k] = self.text(str(v))
        return out

    def _header_placeholder(self, value: Any) -> str:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if self.is_placeholder(text):
            return self.text(text)
        parts = text.split()
        # "Bearer <token>": the same token in a header and in a body gets the same number.
        return self.placeholder_for(parts[1] if len(parts) == 2 else text)

    def query(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Scrub token-like query parameters."""
        return [
            (k, (self.text(v) if self.is_placeholder(v) else self.placeholder_for(v))
             if _norm_field(k) in self.query_params and v else self.text(v))
            for k, v in pairs
        ]

    def uri(self, uri: str) -> str:
        """Scrub a URL: token-like query parameters and literal secrets."""
        if not self.enabled:
            return uri
        if "?" not in uri:  # nothing to parse: only literal secrets and patterns apply
            return self.text(uri)
        parts = urlsplit(uri)
        if parts.query:
            pairs = self.query(parse_qsl(parts.query, keep_blank_values=True))
            parts = parts._replace(query=urlencode(pairs, safe="<>:"))
        return self.text(urlunsplit(parts))


@dataclass(frozen=True)
class Finding:
    """One secret found in a file by :func:`scan_for_secrets`."""

    path: Path
    kind: str  # "token" | "private-key" | "vpn-key"
    detail: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.detail}"


def _mask(token: str) -> str:
    return f"{token[:3]}…({len(token)} chars)"


def _files(paths: Iterable[str | Path]) -> Iterable[Path]:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for dirpath, _dirs, names in os.walk(p):
                for name in sorted(names):
                    yield Path(dirpath) / name
        elif p.exists():
            yield p


def scan_for_secrets(
    paths: Iterable[str | Path], tokens: Iterable[str], key_blocks: bool = True
) -> list[Finding]:
    """Every occurrence of a known token (raw or URL-quoted) in the files under ``paths``.

    With ``key_blocks``, unscrubbed PEM private keys and OpenVPN key blocks are findings too.
    """
    needles: list[tuple[bytes, str]] = []
    for t in tokens:
        if t:
            for variant in {t, quote(t, safe="")}:
                needles.append((variant.encode(), _mask(t)))
    pem = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
    ovpn = re.compile(rb"<(key|tls-auth|tls-crypt|secret)>\s*(?!<scrubbed)[A-Za-z0-9+/=#-]{16,}")
    findings: list[Finding] = []
    for path in _files(paths):
        data = path.read_bytes()
        for needle, shown in needles:
            start = data.find(needle)
            while start != -1:
                findings.append(Finding(path, "token", shown, data.count(b"\n", 0, start) + 1))
                start = data.find(needle, start + 1)
        if key_blocks:
            for m in pem.finditer(data):
                findings.append(Finding(path, "private-key", m.group(0).decode(),
                                        data.count(b"\n", 0, m.start()) + 1))
            for m in ovpn.finditer(data):
                findings.append(Finding(path, "vpn-key", f"<{m.group(1).decode()}> block",
                                        data.count(b"\n", 0, m.start()) + 1))
    return findings
