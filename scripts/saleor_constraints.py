"""Write pip constraint files from a Saleor checkout's lock file (uv.lock or poetry.lock).

Usage: python scripts/saleor_constraints.py SALEOR_SRC OUT_PREFIX [--uv UV] [--commit SHA]

Writes OUT_PREFIX.txt (Saleor's main dependencies) and OUT_PREFIX-dev.txt (main + every
dependency group), one ``name==version`` per line, with the environment markers evaluated for
the interpreter running this script and dropped. Saleor 3.22+ locks with uv (uv.lock, read
through ``uv export``); 3.21 and older with Poetry (poetry.lock, read directly: each package's
groups and markers). Run it with CPython 3.12 on Linux x86_64 to refresh
``constraints/saleor-X.Y*.txt``; ``scripts/saleor-env.sh`` runs it to install (poetry.lock) or
check (uv.lock) a Saleor environment against the checkout's own lock.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

try:
    from packaging.markers import Marker
except ImportError:  # a bare interpreter: pip vendors packaging
    from pip._vendor.packaging.markers import Marker

REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>\S+)$")


def saleor_version(src: Path) -> str:
    text = (src / "saleor" / "__init__.py").read_text()
    match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    return match.group(1) if match else "unknown"


def export(uv: str, src: Path, dev: bool) -> tuple[list[str], list[str]]:
    """(kept lines, lines excluded by markers) of ``uv export`` for this interpreter."""
    uv = str(Path(uv).resolve()) if "/" in uv else (shutil.which(uv) or uv)  # runs in src
    command = [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header"]
    command += ["--no-annotate", "--all-groups" if dev else "--no-dev"]
    out = subprocess.run(  # noqa: S603  (uv, given on the command line)
        command, cwd=src, check=True, capture_output=True, text=True
    ).stdout
    kept: list[str] = []
    excluded: list[str] = []
    for raw in out.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        if not REQUIREMENT.match(requirement):
            raise SystemExit(f"saleor_constraints: cannot use {line!r} as a pip constraint")
        if marker and not Marker(marker).evaluate():
            excluded.append(requirement)
        else:
            kept.append(requirement)
    return kept, excluded


def lock_file(src: Path) -> str:
    """The lock file this checkout ships: uv.lock (3.22+) or poetry.lock (3.21 and older)."""
    for name in ("uv.lock", "poetry.lock"):
        if (src / name).is_file():
            return name
    raise SystemExit(f"saleor_constraints: {src} has neither uv.lock nor poetry.lock")


def poetry_export(src: Path, dev: bool) -> tuple[list[str], list[str]]:
    """What ``poetry install`` (every group) or ``poetry install --only main`` would install.

    Each ``[[package]]`` names its ``groups``; ``markers`` is either one marker for all of them
    or a table of one marker per group. A package is kept when one of its selected groups
    applies to this interpreter."""
    with (src / "poetry.lock").open("rb") as handle:
        lock = tomllib.load(handle)
    kept: list[str] = []
    excluded: list[str] = []
    for package in lock["package"]:
        if package.get("source"):  # a git/url/path dependency cannot be a pip constraint
            name, source = package["name"], package["source"]
            raise SystemExit(f"saleor_constraints: {name} comes from {source}, not an index")
        groups = package.get("groups", ["main"])
        selected = groups if dev else [group for group in groups if group == "main"]
        if not selected:
            continue
        requirement = f"{package['name'].lower()}=={package['version']}"
        markers = package.get("markers", "")
        if isinstance(markers, str):
            applies = not markers or Marker(markers).evaluate()
        else:
            applies = any(not markers.get(g) or Marker(markers[g]).evaluate() for g in selected)
        (kept if applies else excluded).append(requirement)
    return sorted(kept), sorted(excluded)


def write(path: Path, src: Path, commit: str, dev: bool, uv: str) -> None:
    lock = lock_file(src)
    kept, excluded = export(uv, src, dev) if lock == "uv.lock" else poetry_export(src, dev)
    version = saleor_version(src)
    what = "main + all dependency groups" if dev else "main (non-dev) dependencies"
    interpreter = f"{platform.python_implementation()} {platform.python_version()}"
    header = [
        f"# pip constraints: the exact versions Saleor {version}'s {lock} resolves for its",
        f"# {what}, for {interpreter} on {sys.platform}/{platform.machine()}.",
        "#",
        f"# Source: github.com/saleor/saleor, tag {version}, file {lock}"
        + (f"\n#   (commit {commit})." if commit else "."),
        "#   Data only: no Saleor code. The saleor project itself is not listed.",
        "# Excluded by environment markers: " + (", ".join(excluded) or "none"),
        "#",
        *(
            [
                "# Generated by scripts/saleor_constraints.py: `uv export --frozen --no-hashes",
                f"#   --no-emit-project {'--all-groups' if dev else '--no-dev'}` in the Saleor "
                "checkout, environment markers",
                "#   evaluated for the interpreter running the script and dropped.",
            ]
            if lock == "uv.lock"
            else [
                "# Generated by scripts/saleor_constraints.py from poetry.lock's [[package]] "
                "entries",
                f"#   ({'every group' if dev else 'group main only'}), environment markers "
                "evaluated for the interpreter",
                "#   running the script and dropped.",
            ]
        ),
        "# To refresh from another Saleor tag: check the tag out (git clone --depth 1 --branch TAG",
        "#   https://github.com/saleor/saleor), then from this repository with CPython 3.12 on",
        "#   Linux x86_64 (uv on PATH, or --uv .venv-uv/bin/uv):",
        "#     python3.12 scripts/saleor_constraints.py /path/to/saleor constraints/saleor-X.Y \\",
        "#       --commit $(git -C /path/to/saleor rev-parse HEAD)",
        "#   It writes constraints/saleor-X.Y.txt (main) and constraints/saleor-X.Y-dev.txt (all).",
    ]
    path.write_text("\n".join(header + kept) + "\n")
    print(f"saleor_constraints: {path} ({len(kept)} pins, {len(excluded)} excluded by markers)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", type=Path, help="a Saleor checkout with uv.lock or poetry.lock")
    parser.add_argument("out_prefix", help="writes OUT_PREFIX.txt and OUT_PREFIX-dev.txt")
    parser.add_argument("--uv", default="uv")
    parser.add_argument("--commit", default="", help="the checkout's commit, for the header")
    args = parser.parse_args()
    write(Path(args.out_prefix + ".txt"), args.src, args.commit, False, args.uv)
    write(Path(args.out_prefix + "-dev.txt"), args.src, args.commit, True, args.uv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
