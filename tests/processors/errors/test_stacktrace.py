from __future__ import annotations

import pytest

from vitalsight.processors.errors.stacktrace import (
    Frame,
    ResolvedFrame,
    file_path,
    fingerprint,
    normalize_message,
    parse_stack,
    source_path,
)

CHROME = """TypeError: Cannot read properties of undefined (reading 'price')
    at computeTotal (https://shop.example/assets/app-4f2a9c1b.js:2:1043)
    at async Object.checkout [as submit] (https://shop.example/assets/app-4f2a9c1b.js:2:2210)
    at new Cart (https://shop.example/assets/app-4f2a9c1b.js:3:17)
    at https://shop.example/assets/app-4f2a9c1b.js:3:99
    at Array.map (<anonymous>)
    at eval (eval at run (https://shop.example/a.js:1:2), <anonymous>:1:1)"""

FIREFOX = """computeTotal@https://shop.example/assets/app.js:2:1043
checkout/<@https://shop.example/assets/app.js:2:2210
@https://shop.example/assets/app.js:3:99
run@https://shop.example/assets/app.js line 4 > eval:1:1"""

SAFARI = """computeTotal@https://shop.example/assets/app.js:2:1050
map@[native code]
https://shop.example/assets/app.js:3:100
global code@https://shop.example/checkout:12:16"""


def test_v8_frames() -> None:
    assert parse_stack(CHROME, 50) == [
        Frame("computeTotal", "https://shop.example/assets/app-4f2a9c1b.js", 2, 1043),
        Frame("checkout", "https://shop.example/assets/app-4f2a9c1b.js", 2, 2210),
        Frame("Cart", "https://shop.example/assets/app-4f2a9c1b.js", 3, 17),
        Frame("", "https://shop.example/assets/app-4f2a9c1b.js", 3, 99),
    ]


def test_firefox_frames() -> None:
    assert parse_stack(FIREFOX, 50) == [
        Frame("computeTotal", "https://shop.example/assets/app.js", 2, 1043),
        Frame("checkout", "https://shop.example/assets/app.js", 2, 2210),
        Frame("", "https://shop.example/assets/app.js", 3, 99),
    ]


def test_safari_frames() -> None:
    assert parse_stack(SAFARI, 50) == [
        Frame("computeTotal", "https://shop.example/assets/app.js", 2, 1050),
        Frame("", "https://shop.example/assets/app.js", 3, 100),
        Frame("", "https://shop.example/checkout", 12, 16),
    ]


def test_max_frames_bounds_the_work() -> None:
    assert len(parse_stack(CHROME, 2)) == 2
    assert parse_stack("not a stack\n\n", 50) == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Uncaught TypeError: x is 5", "x is <n>"),
        ("order 9c0f3a1e-2b4d-4c6e-8f00-1234567890ab failed", "order <uuid> failed"),
        ("Failed to fetch https://api.shop.example/cart/123?x=1", "Failed to fetch <url>"),
        (
            "Cannot read properties of undefined (reading 'price')",
            "Cannot read properties of undefined (reading <str>)",
        ),
        ("token deadbeef42 expired after 1.5s", "token <hex> expired after <n>s"),
        ("  many   spaces\n here ", "many spaces here"),
    ],
)
def test_message_normalization(message: str, expected: str) -> None:
    assert normalize_message("TypeError", message) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example/assets/main-NJCNFF3W.js", "/assets/main.js"),
        ("https://cdn.example/assets/index-BdF3x9Qz.js?v=2#x", "/assets/index.js"),
        (
            "https://cdn.example/static/js/main.8f2c4e1a9b3d5f70.chunk.js",
            "/static/js/main.chunk.js",
        ),
        ("https://cdn.example/assets/checkout-workflow.js", "/assets/checkout-workflow.js"),
        ("https://cdn.example", "/"),
    ],
)
def test_file_path_drops_origin_query_and_hash(url: str, expected: str) -> None:
    assert file_path(url) == expected


def test_source_path_drops_bundler_prefixes() -> None:
    assert source_path("webpack://shop/./src/cart.ts") == "src/cart.ts"
    assert source_path("../../src/cart.ts") == "src/cart.ts"
    assert source_path("src/cart.ts?v=3") == "src/cart.ts"


def test_fingerprint_ignores_minified_names_and_positions_but_not_real_names() -> None:
    def fp(stack: str) -> str:
        frames = parse_stack(stack, 50)
        return fingerprint("TypeError", "boom", frames, [None] * len(frames), 3)

    a = fp("    at a (https://x/app-AAAA1111.js:1:10)\n    at run (https://x/app-AAAA1111.js:1:99)")
    b = fp("    at q (https://x/app-BBBB2222.js:7:55)\n    at run (https://x/app-BBBB2222.js:9:1)")
    c = fp(
        "    at q (https://x/app-BBBB2222.js:7:55)\n    at start (https://x/app-BBBB2222.js:9:1)"
    )
    assert a == b
    assert a != c


def test_fingerprint_skips_library_frames_and_counts_n_in_app_frames() -> None:
    frames = [Frame("x", "https://x/app.js", 1, 1)] * 3
    resolved: list[ResolvedFrame | None] = [
        ResolvedFrame("useState", "node_modules/react/index.js", 10, 1),
        ResolvedFrame("render", "src/view.ts", 3, 1),
        ResolvedFrame("main", "src/main.ts", 1, 1),
    ]
    with_library = fingerprint("Error", "m", frames, resolved, 1)
    other_library = [ResolvedFrame("h", "node_modules/preact/x.js", 1, 1), *resolved[1:]]
    assert fingerprint("Error", "m", frames, other_library, 1) == with_library
    assert fingerprint("Error", "m", frames, resolved, 2) != with_library
    assert fingerprint("Error", "m", frames, resolved, 0) == fingerprint("Error", "m", [], [], 3)
