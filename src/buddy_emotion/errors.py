"""The library's own exceptions. Every public function raises only these for bad input or failures.

All derive from :class:`BuddyEmotionError`, so ``except BuddyEmotionError`` catches them all. Bad arguments
raise :class:`InvalidArgumentError` (also a ``ValueError``) or :class:`ArgumentTypeError` (also a
``TypeError``), so code that catches the built-in classes keeps working.
Messages are one line, say what was wrong and, where there is one, what to do about it.
"""

from __future__ import annotations

__all__ = [
    "BuddyEmotionError",
    "InvalidArgumentError",
    "ArgumentTypeError",
    "InvalidFrameError",
    "ImageFileError",
    "CameraError",
    "BackendError",
    "BackendNotFoundError",
    "BackendUnavailableError",
    "MissingDependencyError",
    "ModelFileError",
    "ServiceError",
    "AuthenticationError",
    "RateLimitError",
    "ServiceUnavailableError",
    "EmotionAttributeRetiredError",
    "BaselineError",
]


class BuddyEmotionError(Exception):
    """Base class of every error this library raises on purpose."""


class InvalidArgumentError(BuddyEmotionError, ValueError):
    """An argument has a value this library refuses: NaN, out of range, an unknown name (also a ValueError)."""


class ArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument has the wrong type, e.g. a str where a number is expected (also a TypeError)."""


class InvalidFrameError(BuddyEmotionError, ValueError):
    """A frame is not an image this library accepts (HxWx3 BGR, HxW grey or HxWx4 BGRA uint8)."""


class ImageFileError(BuddyEmotionError, OSError):
    """An image or video file is missing, unreadable or corrupt."""


class CameraError(BuddyEmotionError, OSError):
    """A camera cannot be opened, stopped delivering frames, or is not available on this machine."""


class BackendError(BuddyEmotionError):
    """An emotion backend failed."""


class BackendNotFoundError(BackendError, KeyError):
    """No backend is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BackendUnavailableError(BackendError):
    """A backend exists but cannot run here (missing extra, missing key, no model file)."""


class MissingDependencyError(BackendUnavailableError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ModelFileError(BackendError):
    """A model file is missing, corrupt or does not have the expected inputs and outputs."""


class ServiceError(BackendError):
    """A remote emotion service answered with an error."""


class AuthenticationError(ServiceError):
    """The service refused the credentials (HTTP 401/403). The key is never part of the message."""


class RateLimitError(ServiceError):
    """The service asked us to slow down (HTTP 429); ``retry_after`` is in seconds, or None."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailableError(ServiceError):
    """The service could not be reached or kept failing (5xx, time-outs, DNS, refused connections)."""


class EmotionAttributeRetiredError(ServiceError):
    """Azure Face no longer returns emotions (retired 30 June 2023); use a local backend instead."""


class BaselineError(BuddyEmotionError, ValueError):
    """A user's baseline file is missing, unreadable, corrupt, or holds values out of range; or there is no
    baseline to save yet (the monitor has not calibrated)."""
