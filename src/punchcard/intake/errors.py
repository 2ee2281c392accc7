from punchcard.kit.errors import PunchcardError


class ProcessingFailed(PunchcardError):
    """An accepted event whose processing failed for a reason that is not a refusal, ``MAX_ATTEMPTS`` times: it is
    rejected with this, so that the member's later events are processed."""

    code = "processing_failed"
    status = 500
