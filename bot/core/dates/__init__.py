"""Dates and days: dates as the person writes them and reads them back (`written.py`), French
public holidays and working days (`holidays.py`), and when the association's office is open
(`office.py`, which closes on those holidays)."""
