"""Settlements as disks, not points: the share of a town's people within a distance of a site.

A town of 330,000 people is not a point: a site 2 km from the town's centre point has many people nearer than
2 km. Each settlement is modelled as a disk of uniform density (``settlement_density_per_km2``); the share of its
people within ``x`` km of the site is the area of the disk inside a circle of radius ``x`` around the site, divided
by the disk's area. PostGIS evaluates the same formula (migration 0002, ``disk_share``); tests compare the two.
"""

from __future__ import annotations

import math


def settlement_radius_km(population: float, density_per_km2: float) -> float:
    """Radius of a disk holding ``population`` at ``density_per_km2``; at least 100 m."""
    return max(0.1, math.sqrt(max(population, 0.0) / (math.pi * density_per_km2)))


def disk_share(distance_km: float, radius_km: float, within_km: float) -> float:
    """Share of a disk (centre ``distance_km`` away, radius ``radius_km``) lying within ``within_km`` of the site."""
    d, r, x = distance_km, radius_km, within_km
    if x <= 0:
        return 0.0
    if d >= x + r:
        return 0.0
    if d + r <= x:
        return 1.0
    if d + x <= r:
        return (x * x) / (r * r)
    lens = (x * x * math.acos((d * d + x * x - r * r) / (2 * d * x))
            + r * r * math.acos((d * d + r * r - x * x) / (2 * d * r))
            - 0.5 * math.sqrt((-d + x + r) * (d + x - r) * (d - x + r) * (d + x + r)))
    return min(1.0, max(0.0, lens / (math.pi * r * r)))
