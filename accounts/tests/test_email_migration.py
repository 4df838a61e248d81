"""accounts/0004: existing emails move to their normal form, unless that would merge accounts."""

import importlib

import pytest
from django.apps import apps

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

normalise_emails = importlib.import_module(
    "accounts.migrations.0004_normalise_existing_emails"
).normalise_emails


def test_existing_emails_take_their_normal_form_unless_another_account_holds_it(capsys):
    punycode, fullwidth, twin, kept = UserFactory.create_batch(4)
    # Stored before normalisation existed (an update skips the model's rules, as old rows did).
    User.objects.filter(pk=punycode.pk).update(email="anna@xn--bcher-kva.de")
    fullwidth_example = "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"
    User.objects.filter(pk=fullwidth.pk).update(email=f"bob@{fullwidth_example}.com")
    User.objects.filter(pk=twin.pk).update(email="kept@xn--bcher-kva.de")
    User.objects.filter(pk=kept.pk).update(email="kept@bücher.de")

    normalise_emails(apps, None)

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[punycode.pk] == "anna@bücher.de"
    assert emails[fullwidth.pk] == "bob@example.com"
    assert emails[twin.pk] == "kept@xn--bcher-kva.de"  # would merge two accounts: reported
    assert emails[kept.pk] == "kept@bücher.de"
    assert "another account holds kept@bücher.de" in capsys.readouterr().out
