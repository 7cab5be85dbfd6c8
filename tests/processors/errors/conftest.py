"""A real esbuild bundle of `app/` and a real V8 stack from it (Node runs the bundle).

esbuild is installed by `npm ci` in `bundle/` (pinned in its package-lock.json); tests that
need it skip with the reason when it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ESBUILD = HERE / "bundle" / "node_modules" / ".bin" / "esbuild"
APP = HERE / "app"
CDN = "https://cdn.shop.example/assets/"

# Runs the bundle as a browser would load it from the CDN, and prints the error's stack.
_RUN = """
const fs = require("fs"), vm = require("vm");
vm.runInThisContext(fs.readFileSync(process.argv[1], "utf8"), { filename: process.argv[2] });
try { shop.run(["sku-1", "sku-9"]); } catch (e) { process.stdout.write(e.stack); }
"""


@dataclass(frozen=True)
class Bundle:
    js: Path
    map: Path
    url: str
    v8_stack: str


def build_bundle(work: Path, *, extra_args: tuple[str, ...] = (), shift: int = 0) -> Bundle:
    """Bundle `app/` minified with a source map; `shift` adds lines to each source first."""
    if not ESBUILD.exists():
        pytest.skip(f"esbuild missing: run `npm ci` in {ESBUILD.parents[2]}")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    src = work / "src"
    src.mkdir(parents=True)
    for path in APP.glob("*.ts"):
        padding = "".join(f"export const pad{i} = {i};\n" for i in range(shift))
        (src / path.name).write_text(padding + path.read_text())
    out = work / "dist"
    subprocess.run(
        [
            str(ESBUILD),
            str(src / "main.ts"),
            "--bundle",
            "--minify",
            "--sourcemap",
            "--format=iife",
            "--global-name=shop",
            f"--outdir={out}",
            "--log-level=warning",
            *extra_args,
        ],
        check=True,
        timeout=30,
    )
    js = next(p for p in out.glob("*.js"))
    url = CDN + js.name
    stack = subprocess.run(
        ["node", "-e", _RUN, str(js), url], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    return Bundle(js=js, map=js.with_name(js.name + ".map"), url=url, v8_stack=stack)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return build_bundle(tmp_path_factory.mktemp("build-a"))
