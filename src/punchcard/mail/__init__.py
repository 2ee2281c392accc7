"""E-mail to members: messages rendered from templates, sent over the SMTP server the settings name, and (for the
demo) a local catcher that keeps what it receives in memory and shows it on a page."""
