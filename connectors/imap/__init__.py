"""Mailboxes on an IMAP server (config ``type = "imap"``): drafts go into
the server's Drafts folder, replies are looked for in INBOX and the archive.
Built on imapclient; see ``mailbox`` for what is read and written."""

from .mailbox import ImapMailbox

__all__ = ["ImapMailbox"]
