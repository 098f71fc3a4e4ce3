"""Where a lead is: country, region and time zone from what they gave us, and territory codes checked.

US ZIP codes resolve offline through the ``zipcodes`` package (state and time zone per ZIP);
country and region codes are checked against ISO 3166 through ``pycountry``.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry
import zipcodes

_POSTAL_PREFIX = re.compile(r"^[A-Z0-9]{2,10}$")
_US_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


@dataclass(frozen=True)
class Location:
    country: str = ""
    region: str = ""  # ISO 3166-2, e.g. US-TX
    timezone: str = ""


@lru_cache(maxsize=4096)
def location_for(postal_code: str, country: str = "") -> Location:
    """The country, region and time zone a postal code implies; empty parts when it can't be told."""
    country = (country or "").strip().upper()
    zip_match = _US_ZIP.match((postal_code or "").strip())
    if zip_match and country in ("", "US"):
        try:
            found = zipcodes.matching(zip_match.group(1))
        except (TypeError, ValueError):
            found = []
        if found:
            place = found[0]
            return Location(country="US", region=f"US-{place['state']}", timezone=place.get("timezone") or "")
    return Location(country=country)


def territory_code(kind: str, code: str) -> str:
    """The canonical form of a territory code, or ValueError saying why it is not one."""
    code = (code or "").strip().upper().replace(" ", "")
    if kind == "country":
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise ValueError(f"{code!r} is not an ISO 3166 country code (two letters, e.g. US).")
    elif kind == "region":
        if pycountry.subdivisions.get(code=code) is None:
            raise ValueError(f"{code!r} is not an ISO 3166-2 region code (e.g. US-TX, CA-ON).")
    elif kind == "postal":
        code = code.rstrip("*")
        if not _POSTAL_PREFIX.match(code):
            raise ValueError(f"{code!r} is not a postal-code prefix (2-10 letters or digits, e.g. 787).")
    else:
        raise ValueError(f"Unknown territory kind {kind!r}.")
    return code
