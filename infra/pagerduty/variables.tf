variable "pagerduty_token" {
  description = "PagerDuty REST API token (or leave null and export PAGERDUTY_TOKEN)."
  type        = string
  sensitive   = true
  default     = null
}

variable "service_name" {
  description = "The PagerDuty service Alertmanager and Sentry page."
  type        = string
  default     = "Northstar"
}

variable "team_id" {
  description = "PagerDuty team ID that owns the schedules and the escalation policy (null: no team)."
  type        = string
  default     = null
}

variable "primary_user_ids" {
  description = "PagerDuty user IDs of the primary on-call rotation, in rotation order."
  type        = list(string)
}

variable "secondary_user_ids" {
  description = "PagerDuty user IDs of the secondary (backup) on-call rotation, in rotation order."
  type        = list(string)
}

variable "engineering_manager_user_id" {
  description = "PagerDuty user ID of the engineering manager (last escalation level)."
  type        = string
}

variable "time_zone" {
  description = "Time zone of the rotations: the one of Alertmanager's business hours (monitoring/alertmanager_config.py)."
  type        = string
  default     = "Europe/London"
}

variable "rotation_start" {
  description = "ISO 8601 start of the rotations, e.g. 2027-01-04T09:00:00+00:00 (a Monday, at hand-over time)."
  type        = string
}

variable "rotation_turn_length_seconds" {
  description = "Length of one on-call shift."
  type        = number
  default     = 604800 # one week
}

variable "escalation_loops" {
  description = "How often the escalation repeats after the engineering manager did not acknowledge."
  type        = number
  default     = 2
}
