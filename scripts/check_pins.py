"""Fail if any pinned package is installed at another version.

Usage: python scripts/check_pins.py [--list-unpinned] CONSTRAINTS_FILE...

Reads ``name==version`` lines; a line with an environment marker that is false for the running
interpreter is skipped. Checks the environment of the interpreter that runs it.
``--list-unpinned`` also prints the installed packages that none of the files pins.
"""

import sys
from importlib import metadata


def canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def marker_applies(marker: str) -> bool:
    if not marker:
        return True
    try:
        from packaging.markers import Marker
    except ImportError:
        try:
            from pip._vendor.packaging.markers import Marker
        except ImportError:
            return True  # cannot evaluate: check the pin
    return bool(Marker(marker).evaluate())


def main(paths: list[str]) -> int:
    list_unpinned = "--list-unpinned" in paths
    paths = [p for p in paths if p != "--list-unpinned"]
    pins: dict[str, tuple[str, str]] = {}  # name -> (version, file)
    for path in paths:
        with open(path) as handle:
            for raw in handle:
                requirement, _, marker = raw.split("#", 1)[0].partition(";")
                if "==" in requirement and marker_applies(marker.strip()):
                    name, version = requirement.split("==", 1)
                    pins[canonical(name.split("[", 1)[0])] = (version.strip(), path)
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    moved = {
        name: (installed[name], version, path)
        for name, (version, path) in pins.items()
        if name in installed and installed[name] != version
    }
    for name, (have, pinned, path) in sorted(moved.items()):
        print(f"pin moved: {name} {have} ({path} pins {pinned})", file=sys.stderr)
    checked = len(set(pins) & set(installed))
    print(f"check_pins: {checked} pinned packages installed, {len(moved)} moved")
    if list_unpinned:
        extra = sorted(f"{n}=={v}" for n, v in installed.items() if n not in pins)
        print(f"check_pins: not pinned by these files: {', '.join(extra) or 'none'}")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
