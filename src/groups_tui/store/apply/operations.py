"""Operations settled by webhooks: ``pending_operations``, and ``early_outcomes``.

The service records an operation (a create, delete, removal or settings change) as
pending when the API accepts it; its webhook settles it. Rules:

* A failure outranks a success for the same request (a partial removal reports both), so
  ``failed`` may overwrite ``done`` but never the reverse.
* Between two outcomes of the same state the earlier stands; at the same second the
  greater error text, so that arrival order never decides.
* An operation is found by its request id; failing that, a delete by its group and
  kind (a group is deleted once), and a removal or settings change recorded under a
  local id (its response carried none) by its group and kind.
* A webhook that overtakes the API's answer (no operation recorded yet) of a kind in
  :data:`EARLY_OUTCOME_KINDS` is kept in ``early_outcomes`` under the same rules (a
  failure over a success, then the greater error text, kind and group) until
  ``Operations.add`` records and settles the operation.
* An operation the service settled itself (``resolved_by`` not ``webhook``) stays.

Every operation settled appends an ``operation.resolved`` change-feed row.
"""

from __future__ import annotations

from typing import Any

from groups_tui.store.apply.context import ApplyContext

__all__ = ["EARLY_OUTCOME_KINDS", "OperationSettler"]

EARLY_OUTCOME_KINDS = ("remove", "settings")
"""Operations whose webhook can overtake the answer and is kept until it is recorded
(creates and deletes are settled from the group row instead)."""

# An early outcome replaces the kept one when it is a failure over a success, or of the
# same state with a greater (error text, kind, group) (arrival order never decides).
_EARLY_WINS = (
    "((excluded.state = 'failed' AND state = 'done') OR (excluded.state = state AND "
    "(coalesce(excluded.error, ''), excluded.kind, coalesce(excluded.group_id, '')) > "
    "(coalesce(error, ''), kind, coalesce(group_id, ''))))"
)

# The outcome replaces the stored one: see the module docstring.
_OUTCOME_WINS = (
    "(state = 'pending' OR (?1 = 'failed' AND state = 'done') OR (state = ?1 AND "
    "(resolved_at > ?3 OR (resolved_at = ?3 AND coalesce(?2, '') > coalesce(error, '')))))"
)


class OperationSettler:
    """Settles pending operations from the webhooks that report their outcome.

    Args:
        ctx: The applier's shared context.
    """

    def __init__(self, ctx: ApplyContext) -> None:
        self._ctx = ctx

    def resolve(
        self,
        request_id: str | None,
        state: str,
        at: int,
        *,
        error: str | None = None,
        group_id: str | None = None,
        kind: str | None = None,
    ) -> None:
        """Settle the operation a webhook reports as ``done`` or ``failed`` (rules above).

        Args:
            request_id: The request id the webhook carries, if any.
            state: ``done`` or ``failed``.
            at: The webhook's time.
            error: The failure's text.
            group_id: The group the operation is about.
            kind: The operation's kind, to find one recorded without a request id and to
                keep an early outcome.
        """
        ctx = self._ctx
        attempts: list[tuple[str, list[Any]]] = []
        if request_id is not None:
            attempts.append(("request_id = ?", [request_id]))
        if kind is not None and group_id is not None:
            # A group is deleted once, so any pending delete of it is settled. Removals and
            # settings changes whose response carried no request id are recorded under a
            # local id; the webhook that settles them is matched on the group and the kind.
            local_only = "" if kind == "delete" else " AND request_id LIKE 'local:%'"
            attempts.append((f"kind = ? AND group_id = ?{local_only}", [kind, group_id]))
        resolved: list[str] = []
        for where, params in attempts:
            rows = ctx.rows(
                "UPDATE pending_operations SET state = ?1, error = ?2, resolved_at = ?3, "
                "resolved_by = 'webhook', group_id = coalesce(group_id, ?4) "
                f"WHERE {where} AND {_OUTCOME_WINS} AND coalesce(resolved_by, 'webhook') = "
                "'webhook' RETURNING request_id",
                (state, error, at, group_id, *params),
            )
            resolved = [r[0] for r in rows]
            if resolved:
                break
        for rid in resolved:
            ctx.change("operation.resolved", group_id, at, rid, {"state": state, "error": error})
        if (
            not resolved
            and request_id is not None
            and kind in EARLY_OUTCOME_KINDS
            and ctx.row("SELECT 1 FROM pending_operations WHERE request_id = ?", (request_id,))
            is None
        ):
            # The webhook overtook the API's answer: keep the outcome for the operation
            # the service is about to record (Operations.add settles it).
            ctx.exec(
                "INSERT INTO early_outcomes(request_id, kind, group_id, state, error, at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO UPDATE SET "
                f"state = CASE WHEN {_EARLY_WINS} THEN excluded.state ELSE state END, "
                f"error = CASE WHEN {_EARLY_WINS} THEN excluded.error ELSE error END, "
                f"kind = CASE WHEN {_EARLY_WINS} THEN excluded.kind ELSE kind END, "
                f"group_id = CASE WHEN {_EARLY_WINS} THEN excluded.group_id ELSE group_id END, "
                "at = max(at, excluded.at)",
                (request_id, kind, group_id, state, error, at),
            )
