#!/usr/bin/env python3
"""Write the official SDK's operation inventory to ``tests/data/sdk_operations.json``.

    python tools/sdk_operations.py            # rewrite the data file from the installed SDK
    python tools/sdk_operations.py --check    # exit 1 when the data file is stale

Needs ``kard-financial-sdk`` installed (``pip install --group bench``). The blocking client
``kard.KardApi`` is walked from the top: every public property that returns a sub-client is a
resource, every public method an operation (``users.rewards.offers``). The HTTP method and
path template of an operation are read from the source of its twin on ``with_raw_response``,
the one ``httpx_client.request(path, method=...)`` call each of them makes; path parameters
keep the SDK's argument names (``/v2/issuers/{organization_id}/children/{child_id}``).
Nothing is sent: the client gets a dummy token and an unroutable base URL.

``tests/test_sdk_parity.py`` reads the data file (without the SDK), and regenerates it with
:func:`collect` to compare when the SDK is installed.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "sdk_operations.json"
DISTRIBUTION = "kard-financial-sdk"
PATH_ENCODERS = frozenset({"encode_path_param", "jsonable_encoder"})


def collect() -> list[dict[str, str]]:
    """Every operation of the installed SDK, sorted by attribute path."""
    from kard import KardApi

    client = KardApi(token=lambda: "unused", base_url="http://127.0.0.1:9")
    operations = list(_walk(client, ""))
    return sorted(operations, key=lambda operation: operation["operation"])


def document() -> dict[str, Any]:
    return {
        "generated_by": "tools/sdk_operations.py",
        "sdk": DISTRIBUTION,
        "version": version(DISTRIBUTION),
        "operations": collect(),
    }


def _walk(resource: object, prefix: str) -> Any:
    cls = type(resource)
    for name in sorted(dir(cls)):
        if name.startswith("_") or name == "with_raw_response":
            continue
        static = inspect.getattr_static(cls, name)
        path = f"{prefix}{name}"
        if isinstance(static, property):
            yield from _walk(getattr(resource, name), f"{path}.")
        elif inspect.isfunction(static):
            raw = getattr(resource, "with_raw_response", None)
            if raw is None:
                raise SystemExit(f"{path}: a method on a client without with_raw_response")
            method, template = _http_call(getattr(raw, name), path)
            yield {"operation": path, "method": method, "path": template}


def _http_call(function: Any, operation: str) -> tuple[str, str]:
    """(HTTP method, path template) of the one ``....request(path, method=...)`` call."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "request"
        and any(keyword.arg == "method" for keyword in node.keywords)
    ]
    if len(found) != 1 or not found[0].args:
        raise SystemExit(f"{operation}: expected one request(path, method=...) call")
    call = found[0]
    method = next(k.value for k in call.keywords if k.arg == "method")
    if not (isinstance(method, ast.Constant) and isinstance(method.value, str)):
        raise SystemExit(f"{operation}: the HTTP method is not a literal")
    return method.value, "/" + _template(call.args[0], operation)


def _template(node: ast.expr, operation: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        raise SystemExit(f"{operation}: the path is neither a literal nor an f-string")
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
            continue
        assert isinstance(value, ast.FormattedValue)
        expression = value.value
        if (
            isinstance(expression, ast.Call)
            and isinstance(expression.func, ast.Name)
            and expression.func.id in PATH_ENCODERS
            and len(expression.args) == 1
        ):
            expression = expression.args[0]
        if not isinstance(expression, ast.Name):
            raise SystemExit(f"{operation}: unexpected path parameter {ast.unparse(value)}")
        parts.append("{" + expression.id + "}")
    return "".join(parts)


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    data = document()
    if args.check:
        checked_in = json.loads(DATA_FILE.read_text(encoding="utf-8"))
        if checked_in["operations"] != data["operations"]:
            print(
                f"{DATA_FILE.name} is stale for {DISTRIBUTION} {data['version']}: "
                "run python tools/sdk_operations.py",
                file=sys.stderr,
            )
            return 1
        print(f"{DATA_FILE.name}: {len(data['operations'])} operations, up to date")
        return 0
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    DATA_FILE.write_text(render(data), encoding="utf-8")
    print(f"wrote {len(data['operations'])} operations of {DISTRIBUTION} {data['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
