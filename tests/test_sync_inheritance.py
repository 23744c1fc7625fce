"""The generator mirrors methods a resource inherits from a class in another module.

``kard.transactions`` gets ``upload_urls`` and ``upload_file`` by inheriting
``AsyncTransactionFiles`` (resources/transaction_files.py); the blocking ``Kard`` must
mirror them like the resource's own methods.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = '''"""A resource that inherits its calls."""

from __future__ import annotations

from .transaction_files import AsyncTransactionFiles


class AsyncProbeTransactions(AsyncTransactionFiles):
    """Probe: only inherited calls."""

    async def own(self) -> int:
        """Its own call."""
        return 1
'''


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_inherited_methods_get_blocking_twins(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "kard_async",
        tmp_path / "kard_async",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (tmp_path / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "gen_sync.py", tmp_path / "tools" / "gen_sync.py")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "kard_async" / "resources" / "probe.py").write_text(PROBE)
    client = tmp_path / "kard_async" / "_client.py"
    text = client.read_text()
    anchor = "    @staticmethod\n    def _token_source("
    assert anchor in text
    text = text.replace(
        anchor,
        "    @cached_property\n"
        "    def probe(self) -> AsyncProbeTransactions:\n"
        "        return AsyncProbeTransactions(self._requester)\n\n" + anchor,
        1,
    ).replace(
        "from .resources.users import AsyncUsers\n",
        "from .resources.probe import AsyncProbeTransactions\n"
        "from .resources.users import AsyncUsers\n",
        1,
    )
    client.write_text(text)

    tool = str(tmp_path / "tools" / "gen_sync.py")
    done = subprocess.run([sys.executable, tool], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    generated = (tmp_path / "kard_async" / "_sync" / "probe.py").read_text()
    for method in ("def own(self)", "def upload_urls(", "def upload_file("):
        assert method in generated
    assert "-> UploadResult:" in generated
    assert "def __init__" not in generated
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "kard_async/_sync"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert lint.returncode == 0, lint.stdout
    # The twin runs: the blocking client of the modified copy has the inherited calls.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kard_async import Kard\n"
            "k = Kard(token='t', organization_id='o', base_url='http://127.0.0.1:9')\n"
            "print(callable(k.probe.upload_file), callable(k.probe.upload_urls))\n"
            "k.close()\n",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert probe.stdout.strip() == "True True", probe.stderr
