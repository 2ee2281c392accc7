from punchcard.kit.errors import NotFound


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
