"""Ages from dates of birth, and the date-of-birth ranges that age filters become.

The rule (also for 29 February): a person is one year older on the day whose month
and day are not before the month and day of their birth, compared as (month, day)
pairs. Someone born on 29 February therefore turns a year older on 1 March in a
non-leap year (28 February is still before 29 February), and on 29 February in a leap
year. "Today" is the local date in `TIME_ZONE`.
"""

import calendar
from datetime import date, timedelta


def age_on(birth_date: date, today: date) -> int:
    """Completed years between `birth_date` and `today`."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


def latest_birth_date(age: int, today: date) -> date:
    """The latest date of birth of someone who is at least `age` today.

    That is `today` moved back `age` years; 29 February becomes 28 February in a
    non-leap year, which agrees with `age_on` (born 29 Feb > 28 Feb as (month, day)).
    """
    year = today.year - age
    day = min(today.day, calendar.monthrange(year, today.month)[1])
    return date(year, today.month, day)


def birth_date_range(*, age_min: int | None, age_max: int | None, today: date):
    """(earliest, latest) dates of birth, inclusive, for ages in [age_min, age_max]."""
    latest = latest_birth_date(age_min, today) if age_min is not None else None
    earliest = (
        latest_birth_date(age_max + 1, today) + timedelta(days=1) if age_max is not None else None
    )
    return earliest, latest
