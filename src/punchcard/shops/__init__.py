"""Shop platforms' webhooks: Shopify's and WooCommerce's orders, refunds and customers become members and events."""
