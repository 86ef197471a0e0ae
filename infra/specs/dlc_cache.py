"""A disk cache of the Deep Learning Container URIs the SageMaker SDK resolves (``images``).

Importing the SDK takes seconds; the answer it gives is a function of the
arguments and of the installed SDK alone. So each answer is kept in one JSON file,
valid for the SDK that gave it: the versions of sagemaker-core (the image tables)
and botocore (the ECR host names) are the file's key, and a file written under
other versions is ignored and then replaced. A file that cannot be read is a miss
and one that cannot be written is skipped: the cache only ever saves time. Failed
resolutions are not kept, so they are resolved, and reported, again.

The folder is ``$MODELFLEET_CACHE_DIR``, else ``$XDG_CACHE_HOME/modelfleet``, else
``~/.cache/modelfleet``. This module must not import the SDK: avoiding that is its point.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

CACHE_DIR_ENV = "MODELFLEET_CACHE_DIR"
FILE_NAME = "dlc-images.json"
# The distributions whose code decides a resolution (-> the package each installs).
SDK_PACKAGES = {"sagemaker-core": "sagemaker", "botocore": "botocore"}

Key = tuple[str | None, ...]  # images.deep_learning_container's arguments, in order


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get(CACHE_DIR_ENV):
        return Path(environ[CACHE_DIR_ENV])
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modelfleet"


def installed_version(distribution: str, package: str) -> str | None:
    """The version in the name of ``distribution``'s ``.dist-info`` folder beside ``package``.

    Read without importing the package, or ``importlib.metadata`` (itself a tenth of
    a second to import); None when there is not exactly one such folder.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    prefix = distribution.replace("-", "_") + "-"
    site = Path(next(iter(spec.submodule_search_locations))).parent
    found = list(site.glob(f"{prefix}*.dist-info"))
    return found[0].name.removeprefix(prefix).removesuffix(".dist-info") if len(found) == 1 else None


@functools.cache
def installed_sdk() -> dict[str, str] | None:
    """The versions the cache is keyed by; None (no caching) if one is unknown."""
    versions = {name: installed_version(name, package) for name, package in SDK_PACKAGES.items()}
    return None if None in versions.values() else versions  # type: ignore[return-value]


class DlcCache:
    """The cache file in ``folder`` for the SDK versions ``sdk``."""

    def __init__(self, folder: Path, sdk: Mapping[str, str]):
        self.path = folder / FILE_NAME
        self.sdk = dict(sdk)

    @staticmethod
    def _entry(key: Key) -> str:
        return json.dumps(list(key))

    def _images(self) -> dict[str, str]:
        """The file's resolutions if the same SDK wrote them; none if it is missing or unreadable."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if (
            not isinstance(data, dict)
            or data.get("sdk") != self.sdk
            or not isinstance(data.get("images"), dict)
        ):
            return {}
        return {k: v for k, v in data["images"].items() if isinstance(v, str)}

    def get(self, key: Key) -> str | None:
        return self._images().get(self._entry(key))

    def put(self, key: Key, uri: str) -> None:
        """Add one resolution, atomically, keeping the others; skipped if the folder is not writable."""
        images = {**self._images(), self._entry(key): uri}
        text = json.dumps({"sdk": self.sdk, "images": images}, indent=1, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{FILE_NAME}.")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, self.path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)


def default() -> DlcCache | None:
    """The cache of this environment's folder and SDK; None when the SDK's versions are unknown."""
    sdk = installed_sdk()
    return DlcCache(cache_dir(), sdk) if sdk is not None else None
