"""Application questions and eligibility screening used by the demo calls, in both languages.

The same block ids are used in English and Spanish, as Wagtail keeps them when a page is
copied for translation, so an application reads the same in either language.
"""

import json

QUESTIONS = [
    ("section", "a1", {"label": ("About your group", "Sobre su grupo"),
                       "help_text": ("Tell us about the work, not about the people you serve.",
                                     "Cuéntenos sobre el trabajo, no sobre las personas a quienes sirven.")}),
    ("long_text", "a2", {"label": ("What will the money pay for?", "¿Para qué se usará el dinero?"),
                         "help_text": ("Describe the work in plain words. Do not name clients.",
                                       "Describa el trabajo con palabras sencillas. No nombre a clientes."),
                         "required": True, "sensitive": False, "word_limit": 300}),
    ("number", "a3", {"label": ("How many people will you serve in the grant period?",
                                "¿A cuántas personas atenderán durante el periodo de la subvención?"),
                      "help_text": ("An estimate is fine.", "Basta con un estimado."),
                      "required": True, "sensitive": False, "min_value": "0", "max_value": "1000000", "whole": True}),
    ("single_choice", "a4", {"label": ("Main language of your work", "Idioma principal de su trabajo"),
                             "help_text": ("", ""), "required": True, "sensitive": False,
                             "choices": (["Spanish", "English", "Mam", "Other"], ["Español", "Inglés", "Mam", "Otro"])}),
    ("long_text", "a5", {"label": ("Risks your group faces doing this work", "Riesgos que enfrenta su grupo al hacer este trabajo"),
                         "help_text": ("Marked sensitive: only the foundation's staff will read it.",
                                       "Marcada como sensible: solo el personal de la fundación la leerá."),
                         "required": False, "sensitive": True, "word_limit": 200}),
    ("section", "b1", {"label": ("Budget and documents", "Presupuesto y documentos"),
                       "help_text": ("The budget must add up to the amount you request.",
                                     "El presupuesto debe sumar el monto que solicita.")}),
    ("budget", "b2", {"label": ("Budget", "Presupuesto"),
                      "help_text": ("One line per expense.", "Una línea por gasto."), "required": True, "sensitive": False,
                      "categories": (["Legal fees", "Bonds", "Stipends", "Training", "Other"],
                                     ["Honorarios legales", "Fianzas", "Estipendios", "Capacitación", "Otro"])}),
    ("file", "b3", {"label": ("Budget or letter of support (optional)", "Presupuesto o carta de apoyo (opcional)"),
                    "help_text": ("PDF or photo, up to 5 MB.", "PDF o foto, hasta 5 MB."),
                    "required": False, "sensitive": False, "file_types": ["pdf", "image"], "max_size_mb": 5}),
    ("consent", "b4", {"label": ("Consent", "Consentimiento"), "help_text": ("", ""), "required": True, "sensitive": False,
                       "consent_text": ("I confirm the information is true and that it does not include client names or case numbers.",
                                        "Confirmo que la información es verdadera y que no incluye nombres de clientes ni números de caso.")}),
]  # fmt: skip

ELIGIBILITY = [
    ("e1", ("Does your group work with immigrant workers or families in the foundation's region?",
            "¿Su grupo trabaja con trabajadores o familias inmigrantes en la región de la fundación?"), "yes",
     ("This call only funds work in the foundation's region. Look at the other open calls.",
      "Esta convocatoria solo financia trabajo en la región de la fundación. Vea las otras convocatorias abiertas.")),
    ("e2", ("Is your group part of a government agency?", "¿Su grupo es parte de una agencia del gobierno?"), "no",
     ("Government agencies cannot apply to community funds.",
      "Las agencias del gobierno no pueden solicitar fondos comunitarios.")),
]  # fmt: skip


def _pick(value, index):
    return value[index] if isinstance(value, tuple) else value


def questions_json(language: str) -> str:
    index = 0 if language == "en" else 1
    blocks = []
    for block_type, block_id, fields in QUESTIONS:
        value = {key: _pick(val, index) for key, val in fields.items()}
        blocks.append({"type": block_type, "id": f"demo-{block_id}", "value": value})
    return json.dumps(blocks)


def eligibility_json(language: str) -> str:
    index = 0 if language == "en" else 1
    return json.dumps(
        [
            {
                "type": "question",
                "id": f"demo-{qid}",
                "value": {"question": question[index], "eligible_answer": answer, "reason": reason[index]},
            }
            for qid, question, answer, reason in ELIGIBILITY
        ]  # fmt: skip
    )


def demo_answers(title: str, amount: int) -> dict:
    """Complete answers to the demo questions (as a form would post them)."""
    return {
        "_title": title,
        "_requested_amount": str(amount),
        "demo-a2": "Two lawyers on call for people detained after raids, and bond hearings.",
        "demo-a3": "120",
        "demo-a4": "0",
        "demo-a5": "Retaliation by employers and fear of reporting.",
        "demo-b2": [
            {"category": "0", "description": "Lawyer hours", "amount": str(amount - 1000)},
            {"category": "3", "description": "Know-your-rights training", "amount": "1000"},
        ],
        "demo-b4": True,
    }
