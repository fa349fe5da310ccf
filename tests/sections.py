"""Fund pages inside their foundation's section of the tree, wherever a test built them.

Staff hold page permissions on their foundation's section pages only, so the pages they edit
must sit beneath them. ``tests.pages.add_fund_page`` may build a fund page under the fund index
(the older tree); ``into_section`` moves it (and its calls) under the section of its language.
"""

from cms.sections import ensure_foundation_section


def into_section(fund_pages, foundation) -> None:
    sections = ensure_foundation_section(foundation)
    for page in fund_pages:
        section = sections[page.locale.language_code]
        if page.get_parent().pk != section.pk:
            page.move(section, pos="last-child")
            page.refresh_from_db()
