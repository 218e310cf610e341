"""The headless console: ``rbconsole run``, ``resume --headless`` and ``drill --headless`` drive a
session to its end without Textual (``runner``), printing what the journal says (``printer``)
and writing the record at the end. It sits beside the console app, above the engine, record
and drill layers it composes."""
