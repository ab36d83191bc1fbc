"""Signals grids sends so higher apps can react without grids importing them.

`officer_moved`: sent on commit when an officer's last position moved (sender=Officer, officer_id,
lat, lng, recorded_at).
"""
from django.dispatch import Signal

officer_moved = Signal()
