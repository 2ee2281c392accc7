"""Program metrics for the admin dashboard, computed set-wise from the ledger, orders and members."""
