"""An independent sphere for checking the app's distances: no code shared with app.spatial.

The radius is derived here from the WGS84 ellipsoid the way PostGIS derives the sphere of
ST_DistanceSphere on SRID 4326: the mean radius (2a + b) / 3.
"""

from __future__ import annotations

import math

WGS84_A = 6_378_137.0
WGS84_F = 1 / 298.257_223_563
MEAN_RADIUS_M = (2 * WGS84_A + WGS84_A * (1 - WGS84_F)) / 3


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) positions in metres."""
    (lon1, lat1), (lon2, lat2) = a, b
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * MEAN_RADIUS_M * math.atan2(math.sqrt(h), math.sqrt(1 - h))


def destination(
    start: tuple[float, float], bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The (lon, lat) reached from `start` along a great circle; longitude kept in -180..180."""
    lon, lat = start
    delta = distance_m / MEAN_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lam1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    lon2 = (math.degrees(lam2) + 540) % 360 - 180
    return lon2, math.degrees(phi2)
