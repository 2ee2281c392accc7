from punchcard.kit.errors import Unprocessable


class ImportFileInvalid(Unprocessable):
    """The file has rows that cannot be imported; ``details`` lists each with its line number. Nothing was imported."""

    code = "import_file_invalid"
