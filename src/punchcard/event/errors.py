from punchcard.kit.errors import Conflict, NotFound, Unprocessable


class OccurredInFuture(Unprocessable):
    code = "occurred_in_future"


class CurrencyMismatch(Unprocessable):
    code = "currency_mismatch"


class OrderAlreadyRecorded(Conflict):
    code = "order_already_recorded"


class OrderNotFound(NotFound):
    code = "order_not_found"


class OrderOfAnotherMember(Unprocessable):
    code = "order_of_another_member"


class RefundExceedsOrder(Unprocessable):
    code = "refund_exceeds_order"


class EventNotFound(NotFound):
    code = "event_not_found"
