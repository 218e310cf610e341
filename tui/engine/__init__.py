"""The session engine: sessions, their journal, values and secrets; no Textual here."""
