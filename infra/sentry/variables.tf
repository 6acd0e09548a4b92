variable "sentry_auth_token" {
  description = "Sentry auth token with alerts:write and org:integrations (or leave null and export SENTRY_AUTH_TOKEN)."
  type        = string
  sensitive   = true
  default     = null
}

variable "sentry_base_url" {
  description = "Sentry API base URL (self-hosted: https://sentry.example.com/api/)."
  type        = string
  default     = "https://sentry.io/api/"
}

variable "organization" {
  description = "Sentry organization slug."
  type        = string
}

variable "project" {
  description = "Sentry project slug of the Northstar backend (and frontend, if they share a project)."
  type        = string
}

variable "environment" {
  description = "Sentry environment the alerts watch (SENTRY_ENVIRONMENT of the backend)."
  type        = string
  default     = "production"
}

variable "owner_team_id" {
  description = "Numeric ID of the Sentry team that owns the alert rules (null: no owner)."
  type        = string
  default     = null
}

variable "slack_workspace_name" {
  description = "Name of the Slack workspace installed in Sentry (Settings > Integrations > Slack)."
  type        = string
}

variable "pagerduty_account_name" {
  description = "Name of the PagerDuty account installed in Sentry (Settings > Integrations > PagerDuty)."
  type        = string
}

variable "pagerduty_service_name" {
  description = "Name of the PagerDuty service Sentry pages (infra/pagerduty var.service_name)."
  type        = string
  default     = "Northstar"
}

variable "pagerduty_sentry_integration_key" {
  description = "Integration key of that service's Sentry integration: `terraform output -raw sentry_integration_key` in infra/pagerduty."
  type        = string
  sensitive   = true
}
