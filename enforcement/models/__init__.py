"""The matter catalog, one module per concept; later casework (inspections, cases) adds its own modules."""
from enforcement.models.catalog import CatalogVersion, Delegation, Matter, MatterEntry, RoutingRevision, TierTemplate
from enforcement.models.checklists import Checklist, ChecklistArea, ChecklistItem
from enforcement.models.power import ProblemType
from enforcement.models.scenarios import Scenario, ScenarioItem

__all__ = [
    "CatalogVersion", "RoutingRevision", "Matter", "MatterEntry", "Delegation", "TierTemplate", "ProblemType",
    "Checklist", "ChecklistArea", "ChecklistItem", "Scenario", "ScenarioItem",
]
