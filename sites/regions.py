"""Kazakhstan's regions (2024 structure) with KATO codes, ISO 3166-2 codes and names in three languages.

Source: geokz administrative boundaries 2024 (A. Rodionov, CC BY 4.0), attributes KATO, ISO_3166_2, ADM1_*.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    kato: str
    iso: str
    name_en: str
    name_ru: str
    name_kk: str

    @property
    def abbr(self) -> str:
        """Three-letter part of the ISO 3166-2 code, used in site codes (KZ-PAV-0003)."""
        return self.iso.split("-")[1]


REGIONS: tuple[Region, ...] = (
    Region("100000000", "KZ-ABY", "Abay", "Абайская", "Абай"),
    Region("110000000", "KZ-AKM", "Akmola", "Акмолинская", "Ақмола"),
    Region("150000000", "KZ-AKT", "Aktobe", "Актюбинская", "Ақтөбе"),
    Region("190000000", "KZ-ALM", "Almaty", "Алматинская", "Алматы"),
    Region("230000000", "KZ-ATY", "Atyrau", "Атырауская", "Атырау"),
    Region("270000000", "KZ-ZAP", "West Kazakhstan", "Западно-Казахстанская", "Батыс Қазақстан"),
    Region("310000000", "KZ-ZHA", "Zhambyl", "Жамбылская", "Жамбыл"),
    Region("330000000", "KZ-ZHT", "Zhetysu", "Жетысуская", "Жетісу"),
    Region("350000000", "KZ-KAR", "Karagandy", "Карагандинская", "Қарағанды"),
    Region("390000000", "KZ-KUS", "Kostanay", "Костанайская", "Қостанай"),
    Region("430000000", "KZ-KZY", "Kyzylorda", "Кызылординская", "Қызылорда"),
    Region("470000000", "KZ-MAN", "Mangystau", "Мангистауская", "Маңғыстау"),
    Region("550000000", "KZ-PAV", "Pavlodar", "Павлодарская", "Павлодар"),
    Region("590000000", "KZ-SEV", "North Kazakhstan", "Северо-Казахстанская", "Солтүстік Қазақстан"),
    Region("610000000", "KZ-YUZ", "Turkestan", "Туркестанская", "Түркістан"),
    Region("620000000", "KZ-ULT", "Ulytau", "Улытауская", "Ұлытау"),
    Region("630000000", "KZ-VOS", "East Kazakhstan", "Восточно-Казахстанская", "Шығыс Қазақстан"),
    Region("710000000", "KZ-AST", "Astana (city)", "Астана", "Астана (қала)"),
    Region("750000000", "KZ-ALA", "Almaty (city)", "Алматы", "Алматы (қала)"),
    Region("790000000", "KZ-SHY", "Shymkent (city)", "Шымкент", "Шымкент (қала)"),
)

BY_KATO = {r.kato: r for r in REGIONS}


def region_of(kato: str | None) -> Region | None:
    """Return the region a KATO code (of a region or anything inside it) belongs to."""
    if not kato:
        return None
    return BY_KATO.get(kato[:2] + "0000000")


def parse_region(value: str) -> str:
    """Accept a region's KATO code (550000000), ISO code (KZ-PAV) or letters (PAV); return the KATO code."""
    from sites.errors import InvalidInput

    text = str(value).strip().upper()
    for region in REGIONS:
        if text in (region.kato, region.iso, region.abbr):
            return region.kato
    raise InvalidInput("region", value, "a region KATO code (550000000) or ISO code (KZ-PAV or PAV)")
