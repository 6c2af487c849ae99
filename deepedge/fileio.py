"""Atomic file writes: a file is either its old self or its complete new self, never half; a
folder (an export) is either its old self or its complete new self, never a mix."""

import contextlib
import ctypes
import fnmatch
import json
import os
import shutil
import tempfile
from pathlib import Path


def check_output_path(path, folder=True, option="--out"):
    """Raises `InvalidInputError` unless `path` can be made as a folder (`folder`) or a file:
    nothing on the way to it is a file, and it is not already the other kind. Commands call it
    before any work, so a mistyped `--out` fails at once instead of after an export."""
    from deepedge.errors import InvalidInputError

    path = Path(path)
    want = "folder" if folder else "file"
    if path.exists() and path.is_dir() != folder:
        raise InvalidInputError(f"{option} names a {want}, but {path} is a {'file' if folder else 'folder'}. "
                                f"Received: {option} {str(path)!r}. Choose another {want}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(f"Cannot create {path}: {parent} is a file, not a folder. "
                                        f"Received: {option} {str(path)!r}. Choose another path for the {want}.")
            break
    return path


def _fsync_dir(path):
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files owner-only; give the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale(folder, prefix, suffix=""):
    """Removes `prefix<pid>-...suffix` leftovers in `folder` whose process is gone (a killed
    writer's temporary files or folders)."""
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(suffix)):
                continue
            pid = name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()


def _fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; on success syncs it to disk and renames it onto `path`.

    For writers that insist on a file name of their own (Keras `save`), so that an
    interruption leaves the previous file in place instead of a half-written one. The
    temporary name carries the writer's process id; leftovers of killed writers are removed
    by the next write of the same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.stem}.tmp"
    _remove_stale(path.parent, prefix, path.suffix)
    tmp = path.with_name(f"{prefix}{os.getpid()}-{os.urandom(4).hex()}{path.suffix}")
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)


_RENAME_EXCHANGE = 2


def _exchange(a, b):
    """Swaps the folders `a` and `b` in one step (Linux `renameat2(RENAME_EXCHANGE)`); False
    where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return result == 0


def folder_workspace(path):
    """A new empty folder beside `path` (same file system) to build its replacement in."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.new"
    _remove_stale(path.parent, prefix)
    _remove_stale(path.parent, f".{path.name}.old")
    return Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{prefix}{os.getpid()}-"))


def swappable_folder(path):
    """Whether `replace_folder` may swap `path` whole: it is absent, or a folder of files only
    that is not the working directory (a folder with subfolders, or `.`, is updated file by file)."""
    path = Path(path)
    if not path.exists():
        return True
    if not path.is_dir() or path.is_symlink() or path.resolve() in (Path.cwd(), *Path.cwd().parents):
        return False
    return not any(entry.is_dir() for entry in path.iterdir())


def _dropped(name, drop):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in drop)


def install_files(new, path, drop=()):
    """Moves every file of the folder `new` into `path`, one rename each (same file system),
    `model.json` last: the fallback of `replace_folder` for folders it may not swap. Files of
    `path` that match a pattern of `drop` and that `new` does not replace are removed after."""
    path.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in Path(new).iterdir() if p.is_file())
    for name in sorted(names, key=lambda n: n == "model.json"):
        os.replace(Path(new) / name, path / name)
    for entry in path.iterdir():
        if entry.is_file() and entry.name not in names and _dropped(entry.name, drop):
            entry.unlink()
    _fsync_dir(path)


def replace_folder(new, path, keep_others=True, drop=()):
    """Puts the folder `new` (from `folder_workspace(path)`) in place of the folder `path` at once.

    Readers see the old folder or the new one, never a mix: `new` is completed first (with
    `keep_others`, hard links to the files of `path` it does not replace, such as a model's
    `model.keras` beside its export), synced, then swapped in with one atomic exchange; the
    old contents are deleted afterwards; files matching a pattern of `drop` (`"lookup_*.npy"`:
    what the writer of `new` owns, so an old one it did not write again is stale) are not kept.
    A kill at any point leaves `path` whole (old or new)
    and at most a hidden leftover that the next replacement removes. Where the system has no
    atomic exchange, `path` is renamed aside and `new` renamed in: `path` is briefly absent.
    """
    new, path = Path(new), Path(path)
    os.chmod(new, 0o777 & ~_umask())  # mkdtemp makes folders owner-only
    if keep_others and path.is_dir():
        for entry in path.iterdir():
            target = new / entry.name
            if target.exists() or entry.name.startswith(".") or _dropped(entry.name, drop):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, target, copy_function=os.link, symlinks=True)
            else:
                try:
                    os.link(entry, target, follow_symlinks=False)
                except OSError:
                    shutil.copy2(entry, target, follow_symlinks=False)
    for entry in new.rglob("*"):
        if entry.is_file() and not entry.is_symlink():
            _fsync_file(entry)
    _fsync_dir(new)
    if not path.exists():
        os.rename(new, path)
    elif _exchange(new, path):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old contents
    else:
        aside = path.with_name(f".{path.name}.old{os.getpid()}-{os.urandom(4).hex()}")
        os.rename(path, aside)
        os.rename(new, path)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(path.parent)
