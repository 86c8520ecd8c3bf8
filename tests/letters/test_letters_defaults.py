"""The default templates cover every letter the shipped flows send, in every language the defaults are
written in, and a brand gets them in its own language."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from lxml import etree

from telora.core import clock
from telora.letters.models import LetterTemplate
from telora.letters.services.defaults import TEMPLATES, TRANSLATIONS, install_defaults
from telora.workflows.engine.spiff import BPMN_NS, NS

SHIPPED = sorted(Path(__file__).resolve().parents[2].glob("src/telora/*/flows/*.bpmn"))


def sent_templates() -> dict[str, set[str]]:
    """Template code -> the shipped flows whose `letters.send` task names it (a quoted literal)."""
    found: dict[str, set[str]] = {}
    for path in SHIPPED:
        for task in etree.parse(str(path)).getroot().iter(f"{{{BPMN_NS}}}serviceTask"):
            if task.get(f"{{{NS}}}task") != "letters.send":
                continue
            inputs = {i.get("name"): i.get("expression") for i in task.iter(f"{{{NS}}}input")}
            try:
                code = ast.literal_eval(inputs.get("template") or "")
            except (ValueError, SyntaxError):
                pytest.fail(f"{path.name}: {task.get('id')} names its template with an expression; "
                            "write a quoted code so it can be checked against the defaults")
            found.setdefault(code, set()).add(path.stem)
    return found


def test_every_template_a_shipped_flow_sends_has_a_default():
    sent = sent_templates()
    assert {"welcome", "final"} <= set(sent)  # the checker reads the flows
    defaults = {spec["code"] for spec in TEMPLATES}
    missing = {code: sorted(flows) for code, flows in sent.items() if code not in defaults}
    assert not missing, f"no default template for {missing}: add it to letters/services/defaults.py"


def test_every_default_is_written_in_every_language_the_defaults_support():
    every = {(spec["code"], spec["channel"]) for spec in TEMPLATES}
    for language, texts in TRANSLATIONS.items():
        assert set(texts) == every, f"{language}: missing {sorted(every - set(texts))}"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", *TRANSLATIONS])
def test_a_brand_gets_the_flow_letters_in_its_language_once(brand_a, system, language):
    brand_a.language = language
    brand_a.save(update_fields=["language"])
    assert install_defaults(brand_a, actor=system, at=clock.now()) > 0
    assert install_defaults(brand_a, actor=system, at=clock.now()) == 0  # again: nothing to add
    for code in sent_templates():
        template = LetterTemplate.objects.get(brand=brand_a, code=code, channel="email")
        assert template.language == language and template.active
