output "service_id" {
  description = "The PagerDuty service both integrations page."
  value       = pagerduty_service.product.id
}

output "alertmanager_routing_key" {
  description = "Write to Alertmanager's secret file pagerduty_routing_key (routing_key_file in monitoring/alertmanager_config.py)."
  value       = pagerduty_service_integration.alertmanager.integration_key
  sensitive   = true
}

output "sentry_integration_key" {
  description = "Pass to infra/sentry as TF_VAR_pagerduty_sentry_integration_key."
  value       = pagerduty_service_integration.sentry.integration_key
  sensitive   = true
}
