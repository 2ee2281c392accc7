from punchcard.kit.errors import Conflict, NotFound, ValidationFailed


class ProgramFileInvalid(ValidationFailed):
    code = "program_file_invalid"


class ProgramNotFound(NotFound):
    code = "program_not_found"


class ProgramChanged(Conflict):
    """A change made from one version of the program is saved after another version was applied (the console's
    editor): saving it would undo that version's change."""

    code = "program_changed"
