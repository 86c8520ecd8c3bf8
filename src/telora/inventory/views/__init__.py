"""The inventory GUI: SIM cards, phone numbers, number groups and CSV uploads."""
