"""The one way equilibrio's pages are templated: escaping on, undefined names an error."""

from __future__ import annotations

from typing import Any

import jinja2


def template_environment(package: str) -> jinja2.Environment:
    """Jinja templates from ``package``'s ``templates`` folder.

    >>> template_environment("equilibrio.report").from_string("{{ post }}").render(post="<b>hi</b>")
    '&lt;b&gt;hi&lt;/b&gt;'
    """
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,  # posts are untrusted user content
        undefined=jinja2.StrictUndefined,
    )


def localized_number(value: Any, lang: str, *, share: bool = False) -> str:
    """A figure as a page in ``lang`` writes it: thousands grouped, a decimal comma in Spanish, "–" for none.

    >>> localized_number(0.8567, "en", share=True), localized_number(1535, "es"), localized_number(100.4, "es")
    ('86%', '1.535', '100,4')
    """
    if value is None:
        return "–"
    if share:
        text = f"{value:.0%}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    if lang == "es":  # 1.535 and 100,4: swap the separators
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
