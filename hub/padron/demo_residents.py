"""Synthetic residents for the demo: clearly fictitious people at made-up addresses in
Barcelona and Vitoria-Gasteiz, with DNIs and NIEs of valid form in the 9999… range.

They are written in the import layout (``docs/padron.md``) and go through the same import as a
council's file, so seeding replaces the embedded padrón: never seed them into a hub that
serves citizens. Seeding twice changes nothing.
"""

from __future__ import annotations

import io
from datetime import date

from hub.db import Database
from hub.padron.importer import ImportReport, import_rows, read_rows

_DEMO_CSV = """\
document,given_names,first_surname,second_surname,birth_date,email,phone,address_id,street,\
number,floor,door,postcode,municipality,registered_on,ended_on
99990001P,Ana,Prueba,Ejemplo,1984-03-14,ana.prueba@example.org,+34600000001,DEMO-BCN-0001,\
Carrer de la Demostració,1,2n,1a,08030,Barcelona,2016-09-01,
99990002D,Jordi,Exemple,Mostra,1982-11-02,,+34600000002,DEMO-BCN-0001,\
Carrer de la Demostració,1,2n,1a,08030,Barcelona,2016-09-01,
99990003X,Pau,Exemple,Prueba,2015-06-21,,,DEMO-BCN-0001,\
Carrer de la Demostració,1,2n,1a,08030,Barcelona,2016-09-01,
X9990001C,Lucía,Ficticia,Demo,1990-01-30,lucia.ficticia@example.org,,DEMO-BCN-0002,\
Passatge Fictici,9,baixos,,08030,Barcelona,2021-02-15,
99990004B,Miren,Adibide,Proba,1975-08-08,,+34600000004,DEMO-VIT-0001,\
Adibide kalea / Calle Ejemplo,7,3º,izq.,01001,Vitoria-Gasteiz,2010-04-12,
99990005N,Iker,Proba,Demo,1973-12-24,,,DEMO-VIT-0001,\
Adibide kalea / Calle Ejemplo,7,3º,izq.,01001,Vitoria-Gasteiz,2012-05-03,
Y9990002N,Łucja,Przykładowa,,1996-07-19,lucja.przyk@example.org,,DEMO-VIT-0002,\
Adibide kalea / Calle Ejemplo,15,1º,dcha.,01001,Vitoria-Gasteiz,2023-10-09,
99990006J,Joan,Antic,Demo,1950-02-10,,,DEMO-BCN-0002,\
Passatge Fictici,9,baixos,,08030,Barcelona,1999-01-01,2020-12-31
"""

#: A resident to try the cabin with: ``(document, birth date)``; their household has three.
DEMO_COLLECTIVE = ("99990001P", "1984-03-14")
#: A resident who lives alone, with a NIE.
DEMO_NIE = ("X9990001C", "1990-01-30")
#: Someone in the padrón who no longer lives in the municipality (no current address).
DEMO_MOVED_AWAY = ("99990006J", "1950-02-10")


def demo_csv() -> str:
    """The demo padrón as a file in the import layout."""
    return _DEMO_CSV


def seed_demo_residents(database: Database, *, today: date) -> ImportReport:
    """Fill the embedded padrón with the demo residents (replacing what it held)."""
    return import_rows(database, read_rows(io.StringIO(demo_csv()), today=today))
