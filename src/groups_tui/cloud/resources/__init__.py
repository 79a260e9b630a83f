"""The Cloud API endpoints grouped as resources, one module each.

Each resource is reached through :class:`~groups_tui.cloud.client.CloudClient`
(``client.groups``, ``.participants``, ``.join_requests``, ``.invite_links``, ``.messages``,
``.media``, ``.templates``) and sends every request through the client's one request core,
which owns the retry policy, the error mapping and the scrubbing of the access token.
"""
