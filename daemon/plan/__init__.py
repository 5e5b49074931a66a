"""Timing and planning, pure: given ``now``, the time zone, the interviews
and the stored records, which follow-ups are due and what to do about them
(``planner.plan``). No I/O."""
