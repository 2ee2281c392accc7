"""Web Push: members' devices that asked for notifications, the program's VAPID keys, and sending a notification to
every device of a member (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID). What is sent, when and in which
language is member mail's (``mailing``): push is one more channel of it."""
