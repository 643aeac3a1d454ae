"""Fail if any package Saleor pins is installed at another version.

Usage: python scripts/check_pins.py CONSTRAINTS_FILE...
"""

import sys
from importlib import metadata


def canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def main(paths: list[str]) -> int:
    pins: dict[str, str] = {}
    for path in paths:
        with open(path) as handle:
            for line in handle:
                line = line.split("#", 1)[0].split(";", 1)[0].strip()
                if "==" in line:
                    name, version = line.split("==", 1)
                    pins[canonical(name.split("[", 1)[0])] = version.strip()
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    moved = {n: (installed[n], v) for n, v in pins.items() if n in installed and installed[n] != v}
    for name, (have, pinned) in sorted(moved.items()):
        print(f"pin moved: {name} {have} (Saleor pins {pinned})", file=sys.stderr)
    checked = len(set(pins) & set(installed))
    print(f"check_pins: {checked} pinned packages installed, {len(moved)} moved")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
