"""A whole base URL from --var is usable; anything else an operator types stays one encoded value."""

from __future__ import annotations

import pytest

from tui.runbook.placeholders import Value, render_url


def test_operator_base_url_at_the_start_goes_in_as_written() -> None:
    scope = {"api": Value("http://lab.internal:8080/v1")}
    assert render_url("{{ api }}/health", scope) == "http://lab.internal:8080/v1/health"


@pytest.mark.parametrize(
    "value",
    ["http://user:pw@evil/x", "http://h/x?y=1", "http://h/#frag", "javascript:alert(1)", "http://h x/", "//evil/x"],
)
def test_anything_but_a_plain_base_url_is_encoded(value: str) -> None:
    rendered = render_url("{{ api }}/health", {"api": Value(value)})
    assert rendered.endswith("/health")
    assert "/" not in rendered.removesuffix("/health")


def test_a_base_url_later_in_the_template_is_a_value() -> None:
    rendered = render_url("http://h/redirect?to={{ u }}", {"u": Value("http://lab:8080/")})
    assert rendered == "http://h/redirect?to=http%3A%2F%2Flab%3A8080%2F"
