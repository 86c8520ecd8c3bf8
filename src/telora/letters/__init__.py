"""Letters: every e-mail, SMS and printed letter Telora sends, from templates each brand edits, with an
outbox that records what went to whom (see docs/letters.md)."""
