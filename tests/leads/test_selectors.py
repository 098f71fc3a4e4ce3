import pytest

from leads.selectors import lead_list_by_contact
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_lead_list_by_contact_matches_either_key_and_nothing_on_blanks():
    by_phone = LeadFactory(phone="+15128670400", email="")
    by_email = LeadFactory(phone="", email="o'brien@example.com")
    LeadFactory(phone="", email="")

    assert lead_list_by_contact(phone="", email="") == []
    assert lead_list_by_contact(phone="+15128670400", email="") == [by_phone]
    assert lead_list_by_contact(phone="", email="o'brien@example.com") == [by_email]
    both = lead_list_by_contact(phone="+15128670400", email="o'brien@example.com")
    assert sorted(lead.pk for lead in both) == sorted([by_phone.pk, by_email.pk])
    assert lead_list_by_contact(phone="' OR 1=1 --", email="") == []
