"""Valid identifiers made on demand, and CSV rows of SIM cards."""

from stdnum import luhn


def make_iccid(n: int, prefix: str = "8931440400") -> str:
    body = f"{prefix}{n:08d}"
    return body + luhn.calc_check_digit(body)


def make_imsi(n: int) -> str:
    return f"20408{n:010d}"  # KPN, the Netherlands


def make_number(n: int) -> str:
    return f"3161{n:07d}"  # Dutch mobile range, valid in phonenumbers


SIM_HEADER = ["iccid", "imsi", "pin1", "puk1", "pin2", "puk2", "sim_type", "partner", "batch"]


def sim_row(n: int, **changes) -> list[str]:
    row = dict(iccid=make_iccid(n), imsi=make_imsi(n), pin1="1234", puk1=f"{n:08d}", pin2="5678",
               puk2=f"{n + 1:08d}", sim_type="usim-4g", partner="Wholesale BV", batch="B2025-01")
    row.update(changes)
    return [row[name] for name in SIM_HEADER]
