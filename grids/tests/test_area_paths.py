"""The one rule for "these area paths hold that area" (grids.selectors.paths_cover), which user scoping,
live push and webhook matching all use."""
from grids.selectors import paths_cover

S1, S1G1, S1G10 = "/1/2/", "/1/2/3/", "/1/2/30/"


def test_the_whole_district_holds_everything_even_what_has_no_area():
    assert paths_cover(None, S1G1)
    assert paths_cover(None, None) and paths_cover(None, "")


def test_an_area_holds_itself_and_what_lies_below_it():
    assert paths_cover([S1], S1) and paths_cover([S1], S1G1)
    assert paths_cover(["/9/", S1], S1G10)  # any one of them


def test_a_prefix_is_whole_segments_not_characters():
    assert not paths_cover([S1G1], S1G10)  # /1/2/3/ is no ancestor of /1/2/30/
    assert not paths_cover([S1G1], S1)     # nor of its own parent


def test_no_paths_hold_nothing():
    assert not paths_cover([], S1)


def test_what_has_no_path_is_held_only_by_the_whole_district():
    """An officer of no street is pushed with no path: only district-wide users get it (the push's rule,
    now everyone's; grids' and the webhooks' copies read `path.startswith` and broke on None)."""
    assert not paths_cover([S1], None)
    assert not paths_cover([S1], "")
    assert not paths_cover([""], "")  # an empty prefix is no area either
