"""groups-tui: a keyboard-driven terminal inbox for WhatsApp Cloud API groups."""

__version__ = "0.1.0"
