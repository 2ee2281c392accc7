"""The admin console under ``/admin``: server-rendered pages for staff to run a program and look after members."""
