"""The simulated Nextcloud: instances, occ, status.php, logs and the chart's manifests."""
