"""Test support for credit: subjects of the test district (grids.testing) to score."""
from grids.models import Subject


def build_subjects(district, categories):
    """Restaurants: two in street S1, one in S2; a building site in S1."""
    def make(name, grid, category, lng):
        return Subject.objects.create(name=name, category=categories[category], lat=30.25, lng=lng,
                                      grid=district[grid])

    return {
        "s1": make("S1 饭店", "S1G1", "restaurant", 120.25),
        "s1b": make("S1 面馆", "S1G2", "restaurant", 120.75),
        "s2": make("S2 饭店", "S2G1", "restaurant", 121.25),
        "site": make("S1 工地", "S1G1", "building_site", 120.3),
    }
