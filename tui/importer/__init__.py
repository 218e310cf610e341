"""``rbconsole import``: Markdown rollback documents as runbooks (no Textual here).

``markdown`` reads the document into sections, ``shell`` splits code into commands, ``steps`` gives
each command its kind, ``plans`` decides which sections are plans, checks and verifications,
``sections`` reads everything else (triage, checklists, contacts, templates, monitors), ``coverage``
says where every command went, and ``build`` puts a runbook together.
"""
