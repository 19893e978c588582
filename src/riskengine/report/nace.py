"""Names of the NACE Rev. 2 sections, so the report shows "C — Manufacturing", not "C".

The sample book (and many insurers' books) code a buyer's sector as its NACE Rev. 2 section
letter, A–U (Regulation (EC) No 1893/2006, Annex I). A book may use other sector codes: those are
shown as they are.
"""

from __future__ import annotations

__all__ = ["NACE_SECTIONS", "sector_name", "sector_label"]

#: Section letter → (official title, short title of at most 24 characters for tables).
NACE_SECTIONS: dict[str, tuple[str, str]] = {
    "A": ("Agriculture, forestry and fishing", "Agriculture and fishing"),
    "B": ("Mining and quarrying", "Mining"),
    "C": ("Manufacturing", "Manufacturing"),
    "D": ("Electricity, gas, steam and air conditioning supply", "Energy supply"),
    "E": ("Water supply; sewerage, waste management and remediation activities", "Water and waste"),
    "F": ("Construction", "Construction"),
    "G": (
        "Wholesale and retail trade; repair of motor vehicles and motorcycles",
        "Wholesale and retail",
    ),
    "H": ("Transportation and storage", "Transport and storage"),
    "I": ("Accommodation and food service activities", "Accommodation and food"),
    "J": ("Information and communication", "Information and comms"),
    "K": ("Financial and insurance activities", "Finance and insurance"),
    "L": ("Real estate activities", "Real estate"),
    "M": ("Professional, scientific and technical activities", "Professional services"),
    "N": ("Administrative and support service activities", "Administrative services"),
    "O": ("Public administration and defence; compulsory social security", "Public administration"),
    "P": ("Education", "Education"),
    "Q": ("Human health and social work activities", "Health and social work"),
    "R": ("Arts, entertainment and recreation", "Arts and recreation"),
    "S": ("Other service activities", "Other services"),
    "T": (
        "Activities of households as employers; undifferentiated goods- and "
        "services-producing activities of households for own use",
        "Households",
    ),
    "U": ("Activities of extraterritorial organisations and bodies", "Extraterritorial bodies"),
}


def sector_name(code: str, *, short: bool = True) -> str:
    """The title of a NACE section letter (short or official); ``""`` for any other code."""
    titles = NACE_SECTIONS.get(str(code).strip().upper())
    if titles is None:
        return ""
    return titles[1] if short else titles[0]


def sector_label(code: str) -> str:
    """``"C — Manufacturing"`` for a NACE section letter; any other code as it is."""
    name = sector_name(code)
    return f"{code} — {name}" if name else str(code)
