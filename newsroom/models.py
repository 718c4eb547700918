from django.db import models


class TimeStampedModel(models.Model):
    """created_at / updated_at on every table."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ErasedAddress(TimeStampedModel):
    """An address erased at its owner's request, remembered only as a keyed hash (HMAC-SHA256
    under a key derived from SECRET_KEY, `newsroom.erased`): a CSV import or a staff edit
    cannot quietly bring it back, and nobody without the key can test it against a list."""

    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name_plural = "erased addresses"

    def __str__(self) -> str:
        return f"Erased address #{self.pk}"
