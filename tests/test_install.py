"""The same install everywhere: requirements.lock agrees with pyproject.toml and is what is installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)")


def locked() -> dict[str, tuple[Version, list[str]]]:
    """Package -> (version, hashes) from requirements.lock."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            pins[current] = (Version(m.group(2)), [])
        elif line.strip().startswith("--hash=sha256:") and current:
            pins[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is in pyproject.toml but not in requirements.lock: run scripts/lock.sh"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}: run scripts/lock.sh"
        )


def test_every_locked_package_has_hashes_and_torch_is_the_cpu_build() -> None:
    pins = locked()
    assert len(pins) > 50
    assert all(hashes for _, hashes in pins.values()), "every locked package carries its sha256"
    assert pins["torch"][0].local == "cpu", "the CPU build, never a CUDA one"


def test_what_is_installed_is_what_the_lock_says() -> None:
    """The environment the suite runs in was installed from the lock (scripts/bootstrap.sh)."""
    for name, (version, _) in locked().items():
        if name in ("pip", "setuptools"):
            continue
        assert Version(metadata.version(name)) == version, (
            f"{name} {metadata.version(name)} installed, {version} locked"
        )


def test_the_web_page_path_imports_and_extracts() -> None:
    """trafilatura and its HTML cleaner must be installed: a page is read end to end."""
    from embeddings.ingest.html import read_html

    body = " ".join(["Japan condemns the launch of a ballistic missile by North Korea."] * 8)
    page = f"<html><head><title>Press release</title></head><body><article><p>{body}</p></article></body></html>"
    text = read_html(page.encode(), "https://example.org/press")
    assert any("ballistic missile" in p for p in text.paragraphs)
