"""manual/ is pure NumPy: no module under it imports torch, directly or indirectly."""

import ast
import subprocess
import sys
from pathlib import Path

MANUAL = Path(__file__).resolve().parents[1] / "manual"


def test_no_torch_import_in_source():
    offenders = []
    for path in sorted(MANUAL.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__"
                  or getattr(node.func if isinstance(node, ast.Call) else None, "attr", "")
                  == "import_module"):
                mods = [a.value for a in node.args if isinstance(a, ast.Constant)]
            offenders += [f"{path.relative_to(MANUAL.parent)}:{node.lineno} imports {m}"
                          for m in mods if m.split(".")[0] == "torch"]
    assert not offenders, "\n".join(offenders)
    assert len(list(MANUAL.rglob("*.py"))) >= 4


def test_importing_manual_does_not_load_torch():
    code = ("import sys, pkgutil, importlib, manual\n"
            "for m in pkgutil.walk_packages(manual.__path__, 'manual.'):\n"
            "    if not m.name.split('.')[-1].startswith('__'):\n"
            "        importlib.import_module(m.name)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=MANUAL.parent, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
