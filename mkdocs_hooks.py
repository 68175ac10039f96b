"""MkDocs hook: the site's home page is the README, its links made relative to docs/, so
that the two never differ (docs/index.md is only the page's place in the site)."""

import os

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def on_page_markdown(markdown, page, **kwargs):
    if page.file.src_uri != "index.md":
        return markdown
    with open(README, encoding="utf-8") as f:
        return f.read().replace("](docs/", "](")
