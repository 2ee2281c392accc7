from punchcard.kit.errors import Unauthorized, ValidationFailed


class WalletCredentialsInvalid(ValidationFailed):
    """What an operator gave ``punchcard wallet apple|google`` cannot sign passes: a file that does not parse, a key
    that is not the certificate's (or needs another password), a certificate the WWDR certificate did not issue or
    issued for another Pass Type ID or team, or a service account without a private key."""

    code = "wallet_credentials_invalid"


class PassAuthorizationInvalid(Unauthorized):
    """A request of Apple's web service without the pass's own ``Authorization: ApplePass <token>``: no token, a
    token of another pass (another member's, another program's), or a pass that is not there. The three are
    answered alike, so a serial number cannot be probed."""

    code = "pass_authorization_invalid"
