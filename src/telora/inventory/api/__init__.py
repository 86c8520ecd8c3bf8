"""/api/v1/inventory: SIM cards, phone numbers, number groups and CSV uploads.

Reads need inventory.view, status changes inventory.change, uploads inventory.import, PIN/PUK
codes inventory.secrets, each in the row's brand; a row of a brand out of reach is a 404.
"""
