"""The keys kept outside the database (declared once in settings.KEYS).

Only the first-time setup (`recordroom init`, `recordroom demo` on a new folder, the
test set-up) creates keys. Any other start that finds data without its keys is refused
naming the missing file: a new key would make every stored document unreadable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import RecordroomError
from .files import private_dir, write_private
from .tempfiles import use_private_temp_root


class MissingKey(RecordroomError):
    """A key the data needs is neither in its variable nor in its key file."""

    code = "missing_key"
    status = 500


def _settings() -> Any:
    from django.conf import settings

    return settings


def _value(spec: Any) -> str:
    from django.core.exceptions import ImproperlyConfigured

    try:
        return str(getattr(_settings(), spec.setting, "") or "")
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        return ""


def missing() -> list[Any]:
    """The KeySpecs whose value this process does not have."""
    return [spec for spec in _settings().KEYS if not _value(spec)]


def data_held(*, database: bool = False) -> list[str]:
    """What the data folder (and with `database`, the database) already holds."""
    s = _settings()
    data_dir, found = Path(s.DATA_DIR), []
    sqlite = data_dir / "recordroom.sqlite3"
    if sqlite.exists() and sqlite.stat().st_size > 0:
        found.append(f"the database {sqlite}")
    blobs = Path(s.BLOB_DIR)
    if blobs.is_dir() and any(blobs.iterdir()):
        found.append(f"the document store {blobs}")
    present = [spec.file for spec in s.KEYS if (Path(s.KEY_DIR) / spec.file).exists()]
    if present:
        found.append("the key file(s) " + ", ".join(present))
    if database and not found:
        from django.db import connection

        if connection.vendor != "sqlite" and connection.introspection.table_names():
            found.append(f"the database {connection.settings_dict['NAME']}")
    return found


def _refusal(specs: list[Any], found: list[str], *, used: bool = False) -> MissingKey:
    """The refusal naming the missing keys; `used`: init found them already used."""
    s = _settings()
    names = " and ".join(f"{Path(s.KEY_DIR) / spec.file}" for spec in specs)
    variables = " / ".join(spec.env for spec in specs if spec.env)
    if not found:
        return MissingKey(
            f"no key at {names} ({variables} unset): this data folder is not set "
            "up; run `recordroom init` (or `recordroom restore` from a backup) first"
        )
    files = "key files" if len(specs) > 1 else "key file"
    verb = "are" if len(specs) > 1 else "is"
    if not used and all(spec.unused_check for spec in specs):
        # Keys this version added (the audit keys, after an upgrade).
        return MissingKey(
            f"this version adds the {files} {names} ({variables} unset), which this "
            f"installation does not have yet: run `recordroom init` to create them "
            "(it does so only while nothing has used them). If they existed before, "
            f"copy them back into {s.KEY_DIR} (mode 0600) from your key export."
        )
    return MissingKey(
        f"this installation holds {'; '.join(found)}, but the {files} {names} {verb} "
        f"missing ({variables} unset). Restore them from your key backup: "
        "`recordroom restore BACKUP --keys KEYS` into an empty folder, or copy the "
        f"files back into {s.KEY_DIR} (mode 0600), or set {variables}. A new key is "
        "never made for existing data: what the old one encrypted could not be read."
    )


def check_on_start() -> None:
    """Refuse a start that finds data but not all of its keys (AppConfig.ready).

    A key with an `unused_check` is left to `require` (after setup): `init` must be
    able to start to create it.
    """
    specs = [spec for spec in missing() if not spec.unused_check]
    if specs and (found := data_held()):
        raise _refusal(specs, found)


def require() -> None:
    """Refuse to go on without every key (serving, and every CLI command but setup)."""
    specs = missing()
    if specs:
        raise _refusal(specs, data_held())


def create_first_time(*, check_database: bool = True) -> list[Path]:
    """Create the missing keys of a new installation; return the files written.

    On an installation that holds data, only a key whose `unused_check` says nothing
    has used it yet (one a later version added) is created. `check_database=False` is
    for the test set-up, whose database is made later.

    Raises:
        MissingKey: data exists and a missing key may have been used.
    """
    specs = missing()
    if not specs:
        return []
    found = data_held(database=check_database)
    if found:
        from django.utils.module_loading import import_string

        used = [
            s for s in specs if not (s.unused_check and import_string(s.unused_check)())
        ]
        if used:
            raise _refusal(used, found, used=True)
    return install({spec.setting: spec.make() for spec in specs})


def install(values: dict[str, str]) -> list[Path]:
    """Write keys (setting name -> value) as new 0600 files and use them from now."""
    s = _settings()
    key_dir = private_dir(Path(s.KEY_DIR))
    written = []
    for spec in s.KEYS:
        if spec.setting in values:
            path = key_dir / spec.file
            write_private(path, values[spec.setting].encode() + b"\n")
            setattr(s, spec.setting, values[spec.setting])
            written.append(path)
    # The data folder holds something now: from here on, this process's temporary
    # files (a first `init` that goes on to load data) go under DATA_DIR/tmp too.
    use_private_temp_root()
    return written


def values() -> dict[str, str]:
    """Every key's value (setting name -> value); refuses when one is missing."""
    require()
    return {spec.setting: _value(spec) for spec in _settings().KEYS}


def export(dest: Path) -> list[Path]:
    """Write every key into the new folder `dest` (0700; files 0600).

    Raises:
        RecordroomError: `dest` exists and is not an empty folder.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RecordroomError(
            f"{dest} already exists and is not an empty folder; keys are written "
            "only into a new or empty folder"
        )
    found = values()
    s = _settings()
    private_dir(dest)
    written = []
    for spec in s.KEYS:
        write_private(dest / spec.file, found[spec.setting].encode() + b"\n")
        written.append(dest / spec.file)
    return written


def read_folder(src: Path) -> dict[str, str]:
    """The keys (setting name -> value) in a folder written by `export`.

    Raises:
        MissingKey: a declared key file is not there, naming it.
    """
    s = _settings()
    found, absent = {}, []
    for spec in s.KEYS:
        path = src / spec.file
        if path.is_file() and (value := path.read_text().strip()):
            found[spec.setting] = value
        else:
            absent.append(str(path))
    if absent:
        raise MissingKey(
            f"the key folder {src} lacks {', '.join(absent)}; give the folder that "
            "`recordroom keys export` (or `backup --keys-to`) wrote"
        )
    return found
