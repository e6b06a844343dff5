"""Properties of the candidate box that radius search narrows by before measuring exactly: it must
hold every point of the circle, wherever the circle is, or radius search silently misses issues."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.models import LonLat
from app.spatial import enclosing_bbox, great_circle_m
from tests.geodesy import destination, haversine_m

longitudes = st.floats(min_value=-180, max_value=180)
latitudes = st.floats(min_value=-90, max_value=90)
radii = st.floats(min_value=0.01, max_value=50_000)
bearings = st.floats(min_value=0, max_value=360)


@given(longitudes, latitudes, radii, bearings, st.floats(min_value=0, max_value=0.999))
def test_every_point_of_the_circle_is_in_the_box(
    lon: float, lat: float, radius: float, bearing: float, fraction: float
) -> None:
    point = destination((lon, lat), bearing, radius * fraction)
    box = enclosing_bbox(LonLat(lon, lat), radius)
    assert box.south <= point[1] <= box.north
    assert box.west <= point[0] <= box.east
    assert -180 <= box.west <= box.east <= 180
    assert -90 <= box.south <= box.north <= 90


@given(longitudes, latitudes, longitudes, latitudes)
def test_the_apps_distance_is_the_independent_haversine(
    lon1: float, lat1: float, lon2: float, lat2: float
) -> None:
    ours = great_circle_m(LonLat(lon1, lat1), LonLat(lon2, lat2))
    assert abs(ours - haversine_m((lon1, lat1), (lon2, lat2))) < 1e-6 * max(1.0, ours) + 1e-6
