"""ncconsole: the terminal operations console for a multi-tenant Nextcloud platform."""

__version__ = "0.1.0"
