"""Gapless counters: invoice numbers per issue year (`2026-0001`) and customer numbers."""

from records.models import Contact, NumberSequence


def draw(key: str) -> int:
    """The next value of counter `key`, the counter row locked until commit.

    The row is created race-free (INSERT ... ON CONFLICT DO NOTHING), then locked: a
    second transaction drawing the same counter waits here until the first commits, so
    values are sequential and, since a rollback returns the value, gapless.
    """
    sequences = NumberSequence.objects.select_for_update()
    sequence = sequences.filter(key=key).first()
    if sequence is None:
        NumberSequence.objects.bulk_create([NumberSequence(key=key)], ignore_conflicts=True)
        sequence = sequences.get(key=key)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def invoice_number(year: int, value: int) -> str:
    return f"{year}-{value:04d}"


def invoice_number_next(year: int) -> str:
    """The next invoice number of `year` (the year's counter locked until commit)."""
    return invoice_number(year, draw(f"invoice:{year}"))


def customer_number_next() -> str:
    """The next free number of the `contact` counter (numbers given by hand are skipped)."""
    while True:
        candidate = f"{draw('contact'):05d}"
        if not Contact.objects.filter(customer_number=candidate).exists():
            return candidate
