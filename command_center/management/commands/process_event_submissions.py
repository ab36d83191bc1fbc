"""A dedicated worker for asynchronous intake: `manage.py process_event_submissions` processes
submissions (command_center.submissions.work) as they come, until stopped (SIGTERM/SIGINT finish the
submission in hand). Run several for a faster drain: they share the queue, each submission once, in
order per client. Celery beat's `process_event_submissions` task does the same a second at a time."""
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections


class Command(BaseCommand):
    help = "Process asynchronous event submissions until stopped (or, with --until-empty, until none is left)."

    def add_arguments(self, parser):
        parser.add_argument("--idle-sleep", type=float, default=0.2, help="seconds to wait when none is ready")
        parser.add_argument("--until-empty", action="store_true", help="stop once no submission is ready")
        parser.add_argument("--start-at", type=float, default=None,
                            help="Unix time to begin at (several workers started together, as bench/burst.py does)")

    def handle(self, *args, idle_sleep=0.2, until_empty=False, start_at=None, **options):
        from command_center.submissions import work

        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))

        stopping = []
        previous = {sig: signal.signal(sig, lambda *_: stopping.append(True)) for sig in (signal.SIGTERM, signal.SIGINT)}
        total = 0
        while not stopping:
            close_old_connections()
            try:
                done = work(seconds=1.0)
            except Exception as exc:  # noqa: BLE001 — busy past the retries: wait, then go on
                self.stderr.write(f"event submissions: {type(exc).__name__}: {exc}")
                close_old_connections()  # a broken connection is dropped; the next round opens another
                done = 0
            total += done
            if not done:
                if until_empty:
                    break
                time.sleep(idle_sleep)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        cpu = time.process_time()
        self.stdout.write(f"processed {total} in {cpu:.2f} s of CPU" + (f" ({1000 * cpu / total:.1f} ms each)" if total else ""))
