"""Connectors for data on the local disk: a vdir folder or single ``.ics``
file as a calendar (``calendar``) and Maildir folders as a mailbox
(``maildir``). Modules are imported only when a configured account uses them.
"""
