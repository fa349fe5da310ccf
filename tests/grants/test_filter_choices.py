"""Filter panels: options read in one query, and a select written without templates (same markup)."""

import pytest
from django import forms

from grants.forms.choices import OptionsInPythonSelect

CHOICES = [
    ("", "---------"),
    (1, 'Bond <Fund> & "Defense"'),
    ("Legal", [("2", "Interpreters"), ("3", "Filing fees")]),
    (4, "Hotline stipends"),
]


@pytest.mark.parametrize("value", [None, "", 1, "3", "99"])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_call", "required": True, "data-x": 'a"b', "disabled": False}]
)
def test_the_python_select_writes_exactly_what_djangos_templates_write(value, attrs):
    django_select = forms.Select(choices=CHOICES).render("call", value, attrs=attrs)
    ours = OptionsInPythonSelect(choices=CHOICES).render("call", value, attrs=attrs)
    assert ours == django_select.replace("\n", "").replace("  ", "")  # the templates add only line breaks
    assert "&lt;Fund&gt; &amp; &quot;Defense&quot;" in ours
    assert ("selected" in ours) == (value in (None, "", 1, "3"))  # nothing chosen: the empty option
