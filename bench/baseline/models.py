from django.db import models


class BaselineEvent(models.Model):
    """The same fields as a captured event, stored by a bare DRF create endpoint: the benchmark's yardstick."""

    channel = models.CharField(max_length=20)
    source = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.channel}/{self.source}"
