"""SIM types come from the catalogue: once a brand defines them, a SIM card must name one."""

import io

import pytest

from telora.catalog.services import save_sim_type
from telora.core import clock
from telora.core.services import ServiceError
from telora.inventory.services import create_sim, import_sims

GOOD = "89314404000000000019"  # Luhn-valid ICCIDs
OTHER = "89314404000000000027"


def csv(*rows):
    head = "iccid,imsi,pin1,puk1,pin2,puk2,sim_type,partner,batch\n"
    return io.BytesIO((head + "".join(rows)).encode())


def test_any_type_goes_until_the_catalogue_defines_some(brand_a, system):
    result = import_sims(brand_a, csv(f"{GOOD},204080000000001,,,,,WHATEVER,,\n"), actor=system,
                         at=clock.now(), file_name="a.csv")
    assert result.imported == 1


def test_unknown_types_are_reported_by_line(brand_a, system):
    save_sim_type(brand_a, {"code": "USIM_TRIPLE", "name": "Triple-cut USIM", "form_factor": "triple-cut"},
                  actor=system, at=clock.now())
    result = import_sims(brand_a, csv(f"{GOOD},204080000000001,,,,,USIM_TRIPLE,,\n",
                                      f"{OTHER},204080000000002,,,,,NANO,,\n"),
                         actor=system, at=clock.now(), file_name="b.csv")
    assert result.imported == 1
    assert [(e.line, e.field) for e in result.errors] == [(3, "sim_type")]
    assert "unknown SIM type 'NANO' (the catalogue has USIM_TRIPLE)" in result.errors[0].message
    with pytest.raises(ServiceError) as err:
        create_sim(brand_a, actor=system, at=clock.now(), iccid=OTHER, imsi="204080000000002", sim_type="NANO")
    assert err.value.field == "sim_type"
