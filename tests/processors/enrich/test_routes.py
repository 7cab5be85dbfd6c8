from __future__ import annotations

import pytest

from vitalsight.processors.enrich.routes import RouteTemplater, url_path


def templater(**patterns: list[str]) -> RouteTemplater:
    return RouteTemplater(patterns, min_token_length=20, cache_size=16)


@pytest.mark.parametrize(
    ("url", "route"),
    [
        ("https://shop.example/product/123", "/product/:id"),
        ("https://shop.example/product/123/", "/product/:id"),
        ("https://shop.example/orders/4f9c2d1e-8a7b-4c3d-9e8f-0a1b2c3d4e5f", "/orders/:uuid"),
        ("https://shop.example/commit/9fceb02d0ae598e95dc970b74767f19372d61af8", "/commit/:hash"),
        ("https://shop.example/reset/eyJhbGciOiJIUzI1NiJ9x8Kq2", "/reset/:hash"),
        ("https://shop.example/reset/k3j4h5k6j7h8g9f0d1s2a3q4", "/reset/:hash"),
        (
            "https://shop.example/blog/best-laptops-2024-under-1000",
            "/blog/best-laptops-2024-under-1000",
        ),
        (
            "https://shop.example/blog/how-we-moved-to-opentelemetry",
            "/blog/how-we-moved-to-opentelemetry",
        ),
        ("https://shop.example/u/42/posts/7?page=2#top", "/u/:id/posts/:id"),
        ("https://shop.example", "/"),
        ("https://shop.example/", "/"),
        ("/relative/99", "/relative/:id"),
        ("https://shop.example/v2/search", "/v2/search"),
        ("https://shop.example/deadbeef", "/deadbeef"),  # 8 hex characters: a word, not a hash
    ],
)
def test_generic_collapsing(url: str, route: str) -> None:
    assert templater().route("shop-web", url) == route


def test_explicit_patterns_win_per_app() -> None:
    routes = templater(**{"docs-site": ["/docs/{section}/{page}"], "*": ["/p/{slug}"]})
    assert (
        routes.route("docs-site", "https://docs.example/docs/api/intro") == "/docs/:section/:page"
    )
    assert (
        routes.route("docs-site", "https://docs.example/docs/api/intro/") == "/docs/:section/:page"
    )
    # One level more does not match; the generic rules apply.
    assert routes.route("docs-site", "https://docs.example/docs/api/intro/12") == (
        "/docs/api/intro/:id"
    )
    # Another app does not get docs-site's pattern, but gets the "*" ones.
    assert routes.route("shop-web", "https://shop.example/docs/api/intro") == "/docs/api/intro"
    assert routes.route("shop-web", "https://shop.example/p/red-shoes") == "/p/:slug"


def test_patterns_tried_in_order() -> None:
    routes = templater(app=["/docs/new", "/docs/{page}"])
    assert routes.route("app", "/docs/new") == "/docs/new"
    assert routes.route("app", "/docs/old") == "/docs/:page"


def test_pattern_literals_are_not_regexes() -> None:
    routes = templater(app=["/a.b/{x}"])
    assert routes.route("app", "/a.b/1") == "/a.b/:x"
    assert routes.route("app", "/axb/1") == "/axb/:id"


def test_min_token_length_is_configurable() -> None:
    short = RouteTemplater({}, min_token_length=8, cache_size=0)
    assert short.route("app", "/invite/Ab3dE9xZ") == "/invite/:hash"
    assert templater().route("app", "/invite/Ab3dE9xZ") == "/invite/Ab3dE9xZ"


def test_url_path_of_broken_url() -> None:
    assert url_path("http://[::1") == ""
    assert templater().route("app", "http://[::1") is None
