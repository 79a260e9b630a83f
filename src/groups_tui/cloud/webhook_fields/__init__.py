"""Webhook parsing, one module per change ``field`` family.

:mod:`groups_tui.cloud.webhooks` verifies a body and walks its envelope; each change's
items go to the parser of their field here. :mod:`.reading` holds the tolerant readers
they share.
"""
