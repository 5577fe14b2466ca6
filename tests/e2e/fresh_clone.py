"""A fresh clone of the repository's HEAD with a `.venv` that runs the clone's own code on the packages
already installed in the checkout's `.venv`.

Installing from uv.lock again would cost a minute and prove nothing new: `make test` (which runs this
suite) has just installed that lock into the checkout's `.venv`. The clone's `.venv` is therefore a bare
venv whose path file puts the clone first and the installed packages after it, without the checkout's
own editable install, so `pipelines`, `dags` and everything the README runs come from the clone (which is
checked). A symlink to the checkout's `.venv` would not do: its editable install imports the checkout's
code, and `make` would re-sync it in place.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
import venv
from pathlib import Path

SHARED_PATH_FILE = "_shared_installed_packages.pth"


def _git(*args: str | Path) -> str:
    done = subprocess.run(["git", *map(str, args)], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _site_packages(venv_dir: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(venv_dir), "platbase": str(venv_dir)}))


def _share_venv(installed: Path, clone: Path) -> None:
    target = clone / ".venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)
    # Plain paths: the installed site-packages' own path files (the checkout's editable install) are
    # not read, so no module of the checkout can stand in for a missing one of the clone.
    (_site_packages(target) / SHARED_PATH_FILE).write_text(f"{clone}\n{_site_packages(installed)}\n")
    python = target / "bin" / "python"
    for script in sorted((installed / "bin").iterdir()):
        copy = target / "bin" / script.name
        if copy.exists() or script.is_symlink() or not script.is_file():
            continue
        head, _, rest = script.read_bytes().partition(b"\n")
        if head.startswith(b"#!") and b"python" in head:  # a console script such as `elections`
            copy.write_bytes(b"#!" + bytes(python) + b"\n" + rest)
            copy.chmod(0o755)
    # Make's stamp of a synced .venv, newer than the clone's uv.lock: `make demo` goes straight to the demo.
    (target / ".synced").touch()


def fresh_clone(checkout: Path, destination: Path) -> Path:
    """Clone the checkout's HEAD (commit what is to be tested) into destination, ready to run."""
    head = _git("-C", checkout, "rev-parse", "HEAD")
    _git("clone", "--quiet", "--no-checkout", checkout, destination)
    _git("-C", destination, "checkout", "--quiet", "--detach", head)
    _share_venv(checkout / ".venv", destination)
    tools = checkout / ".tools"
    if tools.is_dir():
        # uv, bootstrapped by make: the Makefile wants it to exist even when nothing needs syncing.
        (destination / ".tools").symlink_to(tools, target_is_directory=True)
    imported = subprocess.run(
        [destination / ".venv" / "bin" / "python", "-c", "import pipelines; print(pipelines.__file__)"],
        cwd=destination,  # `python -c` imports from its working folder first, as a reader's would
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.strip()
    assert Path(imported).is_relative_to(destination), f"the clone's .venv imports {imported}"
    return destination
