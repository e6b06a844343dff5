"""Bangkok's real district boundaries (shipped with the demo city) and real report positions.

The positions are a sample of Traffy Fondue reports of May 2023 (see ../shared/data/README.md):
ticket id, position, and the district the platform recorded. The sample has reports well inside a
district, reports near a border whose pin falls in the neighbouring district, and reports that no
district covers. Only the positions are copied here, not the reports' text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Report:
    ticket: str
    lon: float
    lat: float
    recorded_district: str | None  # as the platform recorded it; None outside Bangkok


# Inside a district, and in the district the platform recorded.
WELL_INSIDE = [
    Report("YMBC7C", 100.38825, 13.72942, "Bang Khae"),
    Report("BXDHTY", 100.41777, 13.7612, "Taling Chan"),
    Report("F42VBZ", 100.60088, 13.6795, "Bang Na"),
    Report("2023-MNME8K", 100.64947, 13.78674, "Bueng Kum"),
    Report("2023-BPXZGH", 100.69094, 13.90832, "Khlong Sam Wa"),
    Report("2023-F4W2BR", 100.50696, 13.74227, "Samphanthawong"),
    Report("2023-EVX8NN", 100.78832, 13.80139, "Min Buri"),
    Report("2023-UDR3KT", 100.46707, 13.71053, "Chom Thong"),
    Report("2023-EUXGQP", 100.56006, 13.77152, "Din Daeng"),
    Report("2023-E6P3NX", 100.50147, 13.72124, "Khlong San"),
    Report("2023-3B4LGU", 100.41155, 13.64255, "Bang Khun Thian"),
    Report("2023-D2V38Q", 100.67489, 13.72278, "Prawet"),
    Report("2023-FCZTMU", 100.51273, 13.78476, "Dusit"),
    Report("2023-6DEWQQ", 100.49906, 13.76332, "Phra Nakhon"),
    Report("WTUAC2", 100.57294, 13.73784, "Vadhana"),
    Report("3XY444", 100.78507, 13.72298, "Lat Krabang"),
]
# Near a border: the pin lies in the district named second, not the one the platform recorded.
ACROSS_A_BORDER = [
    (Report("2023-HVEYTW", 100.81582, 13.78304, "Nong Chok"), "Lat Krabang"),
    (Report("2023-9HUC2K", 100.55252, 13.74241, "Khlong Toei"), "Vadhana"),
    (Report("2023-7V9HVZ", 100.4793, 13.77577, "Bangkok Noi"), "Bang Phlat"),
    (Report("2023-D66Q9A", 100.6079, 13.79675, "Lat Phrao"), "Wang Thonglang"),
    (Report("2023-977QMH", 100.57067, 13.72979, "Khlong Toei"), "Vadhana"),
    (Report("KZHDPF", 100.46756, 13.74482, "Bangkok Noi"), "Bangkok Yai"),
    (Report("PRTF9M", 100.4896, 13.7558, "Phra Nakhon"), "Bangkok Noi"),
    (Report("2023-NBMZ3D", 100.51639, 13.75613, "Pom Prap Sattru Phai"), "Dusit"),
]
# In no district: Phayao, Samut Prakan, Yasothon (twice), and a Bang Na pin just outside the
# simplified boundary.
OUTSIDE = [
    Report("2023-663VYM", 99.93396, 19.04507, None),
    Report("2023-7KBEXK", 100.68562, 13.649, None),
    Report("2023-LQ88HH", 104.49639, 16.17437, None),
    Report("2023-7DWVFE", 104.49722, 16.17404, None),
    Report("(no ticket id)", 100.61481, 13.65579, "Bang Na"),
]


@cache
def district_geometries() -> dict[str, dict[str, Any]]:
    """English district name -> GeoJSON geometry, read from the file the demo city loads."""
    collection = json.loads(
        (files("app.demo") / "bangkok-districts.geojson").read_text(encoding="utf-8")
    )
    return {f["properties"]["ADM2_EN"]: f["geometry"] for f in collection["features"]}
