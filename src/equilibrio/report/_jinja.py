"""The one way equilibrio's pages are templated: escaping on, undefined names an error."""

from __future__ import annotations

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
