"""The lock files installs come from say what the human-edited requirements say (run `make lock`)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def pins(path: Path) -> dict[str, str]:
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in _PIN.findall(path.read_text())}


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [
        ("requirements.txt", "requirements.lock"),
        ("requirements.txt", "requirements-dev.lock"),
        ("requirements-dev.txt", "requirements-dev.lock"),
    ],
)
def test_every_pinned_requirement_is_locked_at_its_version(requirements, lock):
    wanted, locked = pins(ROOT / requirements), pins(ROOT / lock)

    assert {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version} == {}


def test_tests_run_the_versions_production_installs():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")

    assert {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version} == {}


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_version_has_a_hash(lock):
    entries = re.split(r"\n(?=\S)", (ROOT / lock).read_text())

    assert [entry.split()[0] for entry in entries if "==" in entry and "--hash=sha256:" not in entry] == []
