"""Scoring treats a legal form at the end of a company name the same on both sides:
"Kranich AG" predicted for "Kranich" (or the other way round) is the same company, as
"(주)본봄" is "본봄". Only a trailing legal form goes: "AB InBev" keeps its "AB"."""

from __future__ import annotations

import pytest

from collabiq_llm.evaluation.scoring import field_correct, normalise_value

LEGAL = [
    ("Kranich AG", "Kranich"),
    ("Nordhavn Terminals A/S", "Nordhavn Terminals"),
    ("Fjellvind AS", "Fjellvind"),
    ("Sisu Power Oy", "Sisu Power"),
    ("Nordlys Retail AB", "Nordlys Retail"),
    ("Verdelune SAS", "Verdelune"),
    ("Atlântida Embalagens S.A.", "Atlântida Embalagens"),
    ("Ferraluce S.p.A.", "Ferraluce"),
    ("Van Dijk Logistiek B.V.", "Van Dijk Logistiek"),
    ("Zeeland Havens N.V.", "Zeeland Havens"),
    ("Mizuchi Electronics K.K.", "Mizuchi Electronics"),
    ("Ashby Water PLC", "Ashby Water"),
    ("Kallang Freight Pte. Ltd.", "Kallang Freight"),
    ("Saffronline Pvt. Ltd.", "Saffronline"),
    ("Stahlwerk Brenner GmbH", "Stahlwerk Brenner"),
    ("Saltgrove Inc.", "Saltgrove"),
    ("Harbourlight Ltd", "Harbourlight"),
    ("Fennel Robotics Co., Ltd.", "Fennel Robotics"),
]


@pytest.mark.parametrize(("with_form", "bare"), LEGAL)
@pytest.mark.parametrize("field", ["startup_name", "partner_org"])
def test_a_trailing_legal_form_is_ignored_on_either_side(
    field: str, with_form: str, bare: str
) -> None:
    assert normalise_value(field, with_form) == normalise_value(field, bare)
    assert field_correct(field, with_form, bare)
    assert field_correct(field, bare, with_form)


@pytest.mark.parametrize(
    ("predicted", "expected"),
    [
        ("AB InBev", "InBev"),  # a leading "AB" is part of the name
        ("Kranich AG", "Kranich Bau"),  # another company
        ("Nordhavn", "Nordhavn Terminals A/S"),  # an extension is another entity
    ],
)
def test_only_a_trailing_legal_form_goes(predicted: str, expected: str) -> None:
    assert not field_correct("partner_org", predicted, expected)


def test_legal_forms_do_not_touch_person_names() -> None:
    assert normalise_value("person_in_charge", "Anna Ag") == "anna ag"
