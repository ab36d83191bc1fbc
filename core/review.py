"""The shape of one item in a team leader's review queue (待我审核), shared by every app that has
something for a leader to review (handled events, cases at review, inspection plans to approve,
appeals). Each such app offers `selectors.review_items(user) -> list[ReviewItem]`; the queue in the
top app merges them, oldest deadline first. The kernel holds only the shape: it imports no app."""
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ReviewItem:
    kind: str  # "event", "case", "inspection_plan", "appeal", "color_appeal": what waits
    id: int
    title: str  # what a leader reads in the queue, already translated
    street: str  # the street's code
    street_name: str
    waiting_since: datetime  # when it started waiting for review
    due_at: datetime | None  # the review's deadline, if the step has one
    url: str  # the page where the leader acts on it
    api_url: str  # the API resource of the item

    def sort_key(self):
        """Oldest deadline first; items without a deadline after, oldest waiting first."""
        return (self.due_at is None, self.due_at or self.waiting_since, self.waiting_since, self.kind, self.id)
