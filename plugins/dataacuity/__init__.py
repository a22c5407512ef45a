"""DataAcuity BI pipeline package (registry, extract, compliance, alerting)."""
