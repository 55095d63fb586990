"""Cells, fleet rows and JSON records shared by `ncconsole status` and the console.

rich only, never textual: the CLI renders with it too.
"""
