"""followup: finds job interviews in calendars and prepares their follow-ups.

The modules at this level are what connectors and the core share: the
contract (``connector``, ``options``, ``errors``), the data passed across it
(``model``, ``kinds``, ``settings``) and helpers connectors use (``headers``,
``interest``, ``icalfiles``, ``files``, ``secrets``, ``registry``). The
subpackages hold the core: ``judge`` and ``plan`` (pure), ``ics``,
``drafts``, ``store``, and ``app`` (the engine, runner and CLI).
"""

__version__ = "0.1.0"
