"""The words printed on a print map in Kazakh, Russian and English, until they move to a shared i18n catalogue."""

from __future__ import annotations

LANGUAGES = ("kk", "ru", "en")

WORDS: dict[str, dict[str, str]] = {
    "title": {"kk": "Тарихи ластану объектілері", "ru": "Объекты исторического загрязнения",
              "en": "Historical pollution sites"},
    "country": {"kk": "Қазақстан Республикасы", "ru": "Республика Казахстан", "en": "Republic of Kazakhstan"},
    "region": {"kk": "{name} облысы", "ru": "{name} область", "en": "{name} region"},
    "selection": {"kk": "Таңдалған объектілер", "ru": "Выбранные объекты", "en": "Selected sites"},
    "count": {"kk": "объектілер: {n}", "ru": "объектов: {n}", "en": "sites: {n}"},
    "legend": {"kk": "Шартты белгілер", "ru": "Условные обозначения", "en": "Legend"},
    "class 1": {"kk": "1-сынып (ең жоғары басымдық)", "ru": "Класс 1 (наивысший приоритет)",
                "en": "Class 1 (highest)"},
    "class 2": {"kk": "2-сынып", "ru": "Класс 2", "en": "Class 2"},
    "class 3": {"kk": "3-сынып", "ru": "Класс 3", "en": "Class 3"},
    "class N": {"kk": "N (басым емес)", "ru": "N (не приоритетный)", "en": "N (not a priority)"},
    "class I": {"kk": "I (ақпарат жеткіліксіз)", "ru": "I (недостаточно информации)",
                "en": "I (insufficient information)"},
    "class None": {"kk": "Әлі бағаланбаған", "ru": "Ещё не оценён", "en": "Not yet scored"},
    "sites": {"kk": "Объектілер", "ru": "Объекты", "en": "Sites"},
    "regions": {"kk": "Облыстар шекаралары", "ru": "Границы областей", "en": "Region boundaries"},
    "districts": {"kk": "Аудандар шекаралары", "ru": "Границы районов", "en": "District boundaries"},
    "rivers": {"kk": "Өзендер", "ru": "Реки", "en": "Rivers"},
    "lakes": {"kk": "Көлдер", "ru": "Озёра", "en": "Lakes"},
    "towns": {"kk": "Ірі елді мекендер", "ru": "Крупные населённые пункты", "en": "Largest towns"},
    "register": {"kk": "тарихи ластану объектілерінің мемлекеттік тізілімі (әр объектінің дереккөздері тізілімде)",
                 "ru": "государственный реестр объектов исторического загрязнения (источники каждого объекта — "
                       "в реестре)",
                 "en": "state register of historical pollution sites (each site's sources are kept in the register)"},
    "date": {"kk": "Күні", "ru": "Дата", "en": "Date"},
    "method": {"kk": "Бағалау әдісі", "ru": "Методика оценки", "en": "Scoring method"},
    "not scored": {"kk": "бағалар әлі жоқ", "ru": "оценок ещё нет", "en": "no scores yet"},
    "projection": {"kk": "Проекция: Ламберттің конформды конустық проекциясы",
                   "ru": "Проекция: равноугольная коническая проекция Ламберта",
                   "en": "Projection: Lambert conformal conic"},
    "scale": {"kk": "Масштаб", "ru": "Масштаб", "en": "Scale"},
    "sources": {"kk": "Дереккөздер", "ru": "Источники", "en": "Sources"},
    "km": {"kk": "км", "ru": "км", "en": "km"},
    "north": {"kk": "С", "ru": "С", "en": "N"},
}


def word(key: str, lang: str, **values) -> str:
    """The word or phrase ``key`` in ``lang``, with ``values`` filled in."""
    return WORDS[key][lang].format(**values)
