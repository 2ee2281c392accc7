"""Wallet passes: a member's card in Apple Wallet (a signed ``.pkpass`` kept current through Apple's PassKit web
service and APNs) and in Google Wallet (a loyalty object saved by a signed link, updated through Google's Wallet
API), with each program's credentials for both. docs/wallet-passes.md tells an operator how to set them up."""
