"""The desired side of the fleet: tenants declared in the platform repo (via ncconsole.gitops).

The console reads only what a row needs from each tenant file (name, wave, environment,
hostname, bucket), with the plain YAML loader (gitops.yamlsource.load_values), and keeps what
it read per file: reading the repo again parses only the files whose size, modification time
or inode changed. What was read is also kept on disk (locations.desired_cache_path), so a
console started again on the same repo parses nothing that did not change: parsing 2,000
tenant files took a quarter of a second of the cold start's CPU, shared with the first lists.
`ncconsole validate` keeps the careful, line-numbered reading (gitops.loader.load_repo); both
call a file usable by the same rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ncconsole.errors import NcConsoleError
from ncconsole.fleet.join import DesiredTenant
from ncconsole.gitops.loader import is_tenant_file_name, required_fields, tenants_dir_of
from ncconsole.gitops.model import TENANTS_DIR
from ncconsole.gitops.yamlsource import load_values


@dataclass(frozen=True)
class DesiredFleet:
    tenants: dict[str, DesiredTenant]
    problems: tuple[str, ...]
    # False when the repo could not be read: then no Application is called an orphan.
    readable: bool


# What identifies a file's content without reading it (as git's index and make do).
_Stamp = tuple[int, int, int, int]  # mtime_ns, ctime_ns, size, inode
_UNTRUSTED: _Stamp = (-1, -1, -1, -1)
_RACY_NS = 2_000_000_000


class _Reading(NamedTuple):
    stamp: _Stamp
    tenant: DesiredTenant | None  # the file's tenant, or its last usable one while it is broken
    usable: bool  # the file as it is now gives the tenant


class DesiredReader:
    """Reads the repo's tenant files, again only where they changed; thread-safe."""

    def __init__(self, repo: Path, cache: Path | None = None) -> None:
        self.repo = Path(repo).expanduser()
        self.cache = cache
        self._parsed: dict[str, _Reading] = {}
        self._lock = threading.Lock()
        self._cache_read = False
        self.parsed_last = 0  # files parsed by the last read (the others were known)

    @property
    def tenants_dir(self) -> Path:
        return self.repo / TENANTS_DIR

    def read(self) -> DesiredFleet:
        with self._lock:
            try:
                tenants_dir = tenants_dir_of(self.repo)
                files = _tenant_files(tenants_dir)
            except NcConsoleError as err:
                self._parsed.clear()
                return DesiredFleet({}, (str(err),), readable=False)
            except OSError as err:
                self._parsed.clear()
                reason = err.strerror or str(err)
                return DesiredFleet({}, (f"{self.tenants_dir}: cannot list ({reason})",), False)
            if not self._cache_read:
                self._cache_read = True
                self._parsed = _load_cache(self.cache)
            parsed = {}
            self.parsed_last = 0
            # A file changed in the last moments may change again within the file system's
            # clock tick, stamp unchanged: not trusted until later (git's "racy" rule).
            racy = time.time_ns() - _RACY_NS
            for name, (path, stamp) in files.items():
                known = self._parsed.get(name)
                if known is not None and known[0] == stamp:
                    parsed[name] = known
                else:
                    tenant = _read_tenant(path)
                    usable = tenant is not None
                    if not usable and known is not None:
                        # A commit that breaks a tenant's file does not take the tenant out of
                        # its wave: Argo CD keeps running what it last rendered and reports a
                        # ComparisonError, which must block the waves after it.
                        tenant = known.tenant
                    trusted = stamp if stamp[0] < racy else _UNTRUSTED
                    parsed[name] = _Reading(trusted, tenant, usable)
                    self.parsed_last += 1
            if parsed != self._parsed:
                _save_cache(self.cache, parsed)
            self._parsed = parsed
        problems = tuple(
            f"{TENANTS_DIR}/{name}: not a usable tenant file"
            f"{'' if reading.tenant is None else ' (its last usable reading is shown)'}"
            " (run `ncconsole validate`)"
            for name, reading in sorted(parsed.items())
            if not reading.usable
        )
        usable = sorted(
            (reading.tenant for reading in parsed.values() if reading.tenant is not None),
            key=lambda t: (t.wave, t.name),
        )
        return DesiredFleet({t.name: t for t in usable}, problems, readable=True)


def load_desired(repo: Path) -> DesiredFleet:
    """The tenants declared in the platform repo, read once."""
    return DesiredReader(repo).read()


def _tenant_files(tenants_dir: Path) -> dict[str, tuple[str, _Stamp]]:
    files = {}
    with os.scandir(tenants_dir) as entries:
        for entry in entries:
            if not is_tenant_file_name(entry.name):
                continue
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue
            stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
            files[entry.name] = (entry.path, stamp)
    return files


def _read_tenant(path: str) -> DesiredTenant | None:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    fields = required_fields(load_values(text))
    if fields is None:
        return None
    name, environment, wave, hostname, bucket = fields
    return DesiredTenant(name, wave, environment, hostname, bucket)


_CACHE_FORMAT = 2


def _load_cache(path: Path | None) -> dict[str, _Reading]:
    """What an earlier run read; nothing when there is no usable cache (it is only a cache)."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _CACHE_FORMAT:
            return {}
        return {
            str(name): _Reading(
                tuple(int(n) for n in stamp),
                DesiredTenant(*tenant) if tenant is not None else None,
                bool(usable),
            )
            for name, (stamp, tenant, usable) in data["files"].items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _save_cache(path: Path | None, parsed: dict[str, _Reading]) -> None:
    if path is None:
        return
    files = {
        name: [list(stamp), list(astuple(tenant)) if tenant is not None else None, usable]
        for name, (stamp, tenant, usable) in parsed.items()
    }
    text = json.dumps({"format": _CACHE_FORMAT, "files": files}, separators=(",", ":"))
    with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except OSError:
            os.unlink(tmp)
            raise


def repo_signature(repo: Path) -> tuple[Any, ...]:
    """Names and modification times of the tenant files: changes when the desired state may.
    Only for polling where file events are not available (FleetState watches otherwise)."""
    tenants = Path(repo).expanduser() / TENANTS_DIR
    try:
        return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in tenants.rglob("*.yaml")))
    except OSError:
        return ()
