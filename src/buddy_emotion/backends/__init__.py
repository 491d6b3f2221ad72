"""Backend registry: create a backend by name, lazily, with an install hint when an extra is missing.

Built-in names: ``default`` (the embedded FER-2013 CNN on LiteRT), ``keras``, ``dlib``, ``azure`` and
``fallback``. Third-party packages add backends through the entry-point group ``buddy_emotion.backends``
(``name = "package.module:BackendClass"``), or at run time with :func:`register`.

>>> from buddy_emotion import backends
>>> backend = backends.create("default")          # doctest: +SKIP
>>> backends.available()["azure"].reason          # doctest: +SKIP
'no key: set AZURE_FACE_KEY and AZURE_FACE_ENDPOINT or pass key= and endpoint='
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from buddy_emotion import _check
from buddy_emotion._check import shown
from buddy_emotion.backends.base import EmotionBackend, Viability, install_hint, require
from buddy_emotion.errors import (
    ArgumentTypeError,
    BackendError,
    BackendNotFoundError,
    BuddyEmotionError,
    InvalidArgumentError,
    MissingDependencyError,
)

__all__ = ["EmotionBackend", "Viability", "create", "available", "register", "names", "get_class", "require"]

ENTRY_POINT_GROUP = "buddy_emotion.backends"


@dataclass(frozen=True)
class _Entry:
    target: str | type[EmotionBackend]  # "module:Class" (imported on first use), or the class itself
    extra: str | None = None  # the buddy-emotion extra that provides its dependencies
    defaults: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    install: str | None = None  # a plug-in's own install command, for the hint when its import fails


_BUILTIN: dict[str, _Entry] = {
    "default": _Entry("buddy_emotion.backends.keras:KerasBackend", None, {"runtime": "litert"},
                      "embedded FER-2013 CNN on LiteRT; offline, no keys"),
    "keras": _Entry("buddy_emotion.backends.keras:KerasBackend", None, {},
                    "Keras CNN trained on FER-2013 (LiteRT, or TensorFlow with the 'keras' extra)"),
    "dlib": _Entry("buddy_emotion.backends.dlib:DlibBackend", "dlib", {},
                   "dlib 68-landmark geometry classifier"),
    "azure": _Entry("buddy_emotion.backends.azure:AzureFaceBackend", "azure", {},
                    "Azure Face API emotion attribute (retired 2023; grandfathered endpoints only)"),
    "fallback": _Entry("buddy_emotion.backends.fallback:FallbackBackend", None, {},
                       "serves from the first of several backends that works"),
}
_REGISTERED: dict[str, _Entry] = {}
_TARGET_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def register(name: str, target: str | type[EmotionBackend], *, extra: str | None = None,
             install: str | None = None, summary: str = "", **defaults: Any) -> None:
    """Register a backend under ``name``: an :class:`EmotionBackend` subclass (kept as it is, so a class
    defined in a function works too), or ``"module:Class"`` to import lazily (the string is checked for its
    form only; :func:`create` imports it).

    ``extra`` names a buddy-emotion extra, ``install`` a plug-in's own install command (e.g. ``"pip install
    my-backend"``): the hint given when importing ``"module:Class"`` fails. ``defaults`` are options passed
    to the class unless the caller gives them.

    Raises:
        ValueError: ``name`` is not a non-empty string, or ``target`` is a string not of the form ``"module:Class"``.
        TypeError: ``target`` is neither, or ``extra``/``summary`` are not strings.
    """
    if not isinstance(name, str):
        raise ArgumentTypeError(f"a backend name must be a non-empty string, got {shown(name)}")
    if not name:
        raise InvalidArgumentError("a backend name must be a non-empty string, got ''")
    if isinstance(target, type):
        if not issubclass(target, EmotionBackend):
            raise ArgumentTypeError(f"target {target!r} is not an EmotionBackend subclass")
    elif isinstance(target, str):
        if not _TARGET_RE.match(target.strip()):
            raise InvalidArgumentError(
                f"target must be an EmotionBackend subclass or 'module:Class', got {shown(target)}")
        target = target.strip()
    else:
        raise ArgumentTypeError(
            f"target must be an EmotionBackend subclass or a 'module:Class' string, got {shown(target)}")
    if extra is not None and not isinstance(extra, str):
        raise ArgumentTypeError(f"extra must be a pip extra name or None, got {shown(extra)}")
    if install is not None and not isinstance(install, str):
        raise ArgumentTypeError(f"install must be an install command or None, got {shown(install)}")
    if not isinstance(summary, str):
        raise ArgumentTypeError(f"summary must be a string, got {shown(summary)}")
    _REGISTERED[name] = _Entry(target, extra, dict(defaults), summary, install)


def _entry_points() -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution must not break the library
        return out
    for ep in eps:
        out.setdefault(ep.name, _Entry(ep.value, None, {}, f"plug-in from {ep.value}"))
    return out


def _entries() -> dict[str, _Entry]:
    entries = dict(_entry_points())
    entries.update(_BUILTIN)
    entries.update(_REGISTERED)
    return entries


def names() -> list[str]:
    """Names of all registered backends (built-in, entry points, run-time registrations)."""
    return sorted(_entries())


def _lookup(name: str) -> _Entry:
    if not isinstance(name, str):
        raise ArgumentTypeError(f"a backend name must be a string, got {type(name).__name__}")
    entries = _entries()
    try:
        return entries[name]
    except KeyError:
        raise BackendNotFoundError(f"no backend named {name!r}; known: {', '.join(sorted(entries))}") from None


def get_class(name: str) -> type[EmotionBackend]:
    """Import and return the class registered under ``name``.

    Raises:
        BackendNotFoundError: unknown name.
        MissingDependencyError: its optional dependency is missing (the message has the pip command).
        BackendError: its module fails to import, or the target is not an EmotionBackend class.
    """
    entry = _lookup(name)
    if isinstance(entry.target, type):
        return entry.target
    module_name, _, attr = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except BuddyEmotionError:
        raise
    except ImportError as e:
        hint = install_hint(entry.extra, entry.install) or "check that it is installed"
        raise MissingDependencyError(f"backend {name!r} cannot be imported ({e}); install it with: {hint}") from None
    except Exception as e:  # a broken plug-in module (or an entry point without a module)
        raise BackendError(f"backend {name!r}: importing {module_name!r} failed ({type(e).__name__}: {e})") from e
    cls: Any = module
    for part in attr.split("."):  # "module:Outer.Inner" for nested classes
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and issubclass(cls, EmotionBackend)):
        raise BackendError(f"backend {name!r}: {entry.target} is not an EmotionBackend class")
    return cls


def create(name: str, **options: Any) -> EmotionBackend:
    """Create the backend registered under ``name`` with ``options`` (see each backend's class).

    Raises:
        BackendNotFoundError, MissingDependencyError, BackendUnavailableError, ModelFileError;
        ArgumentTypeError: an option the backend does not take; InvalidArgumentError: a bad option value.
    """
    entry = _lookup(name)
    cls = get_class(name)
    kwargs = {**entry.defaults, **options}
    _check.options_for(f"backend {name!r}", cls, **kwargs)
    return cls(**kwargs)


def viability(name: str, **options: Any) -> Viability:
    """Whether backend ``name`` can run here, with the reason when not. Never raises for a known name."""
    entry = _lookup(name)
    try:
        cls = get_class(name)
    except Exception as e:  # a broken entry must not break listing
        return Viability(False, str(e) if isinstance(e, BackendError) else f"cannot load: {type(e).__name__}: {e}")
    try:
        result = cls.viability(**{**entry.defaults, **options})
    except Exception as e:  # a plug-in's check must not break listing
        return Viability(False, f"viability check failed: {e}")
    if not isinstance(result, Viability):
        return Viability(False, f"viability check failed: {cls.__name__}.viability() returned {result!r}")
    return result


def available() -> dict[str, Viability]:
    """Every registered backend with whether it can run here and why not."""
    return {name: viability(name) for name in names()}


def summary(name: str) -> str:
    """One-line description of a registered backend."""
    return _lookup(name).summary
