"""StreamField blocks for the public pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock


class CalloutBlock(blocks.StructBlock):
    """A highlighted box, e.g. a hotline number or a know-your-rights reminder."""

    heading = blocks.CharBlock(label=_("Heading"), max_length=120)
    text = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link", "ul", "ol"])

    class Meta:
        icon = "warning"
        template = "cms/blocks/callout.html"
        label = _("Callout")
        description = _("A highlighted box for urgent information such as a hotline number.")
        preview_value = {"heading": "Rapid response hotline", "text": "<p>Call 1-800-000-0000.</p>"}


class DocumentLinkBlock(blocks.StructBlock):
    """A downloadable document (guidelines, budget template) with a plain-language title."""

    document = DocumentChooserBlock(label=_("Document"))
    title = blocks.CharBlock(label=_("Title shown"), required=False, max_length=200)

    class Meta:
        icon = "doc-full"
        template = "cms/blocks/document_link.html"
        label = _("Document")
        description = _("A file visitors can download, e.g. the call guidelines.")


class BodyBlock(blocks.StreamBlock):
    """Content of standard pages: headings, text, callouts and documents."""

    heading = blocks.CharBlock(label=_("Heading"), form_classname="title", template="cms/blocks/heading.html")
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), features=["h3", "bold", "italic", "link", "ul", "ol", "document-link"]
    )
    callout = CalloutBlock()
    document = DocumentLinkBlock()

    class Meta:
        description = _("Page content")
