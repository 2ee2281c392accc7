from punchcard.kit.errors import NotFound, ValidationFailed


class ProgramFileInvalid(ValidationFailed):
    code = "program_file_invalid"


class ProgramNotFound(NotFound):
    code = "program_not_found"
