"""Signals grids sends so higher apps can react without grids importing them.

`officer_moved`: sent on commit when an officer's last position or duty status changed: sender=Officer,
officer_id, and either lat, lng, recorded_at (a position, `services.record_position`) or duty_status
(`services.set_duty_status`).
"""
from django.dispatch import Signal

officer_moved = Signal()
