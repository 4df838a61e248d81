"""Existing accounts' emails in the normal form new ones get (core.validators.email_normalize):
one mailbox, one account, and a login with any spelling of the address finds it.

An address with no normal form (invisible characters, a confusable domain) or whose normal form
another account already holds is left as it is and reported: merging or renaming accounts is a
decision for an operator, never for a migration."""

from django.core.exceptions import ValidationError
from django.db import migrations


def normalise_emails(apps, schema_editor):
    from core.validators import email_normalize

    User = apps.get_model("accounts", "User")
    taken = set(User.objects.values_list("email", flat=True))
    left = []
    for user in User.objects.order_by("pk").only("pk", "email").iterator():
        try:
            normal = email_normalize(user.email)
        except ValidationError:
            left.append((user.pk, user.email, "has no normal form"))
            continue
        if normal == user.email:
            continue
        if normal in taken:
            left.append((user.pk, user.email, f"another account holds {normal}"))
            continue
        User.objects.filter(pk=user.pk).update(email=normal)
        taken.discard(user.email)
        taken.add(normal)
    for pk, email, why in left:
        print(f"\n  accounts: user {pk}'s email {email!r} left as it is: {why}.", end="")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_visible_text_and_normal_email")]

    operations = [migrations.RunPython(normalise_emails, migrations.RunPython.noop)]
