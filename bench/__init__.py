"""``python -m bench``: the performance figures of ``followup``.

Every figure is a count or a ratio measured side by side in the same run,
so the results mean the same on a fast laptop and on a busy CI machine.
Each module measures one group of figures and returns ``Row`` values
(``bench.rows``); ``bench.__main__`` runs the groups, prints a table and
writes JSON. Work that must not share an interpreter with the rest (peak
memory, start-up, an idle daemon) runs in child processes
(``bench.child``).

The groups need the ``test`` extra: the Radicale server, Dovecot (when
installed) and the fake Google and Microsoft Graph servers in ``tests/``.
A backend that cannot start gives rows without a value and a note.
"""
