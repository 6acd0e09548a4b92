# The seed's on-call rotation ("On-Call Rotation"; monitoring/runbooks/README.md):
#   primary responds within 15 min, secondary (backup) within 30 min, then the engineering manager, 1 hour.
# Each level's response time is its rule's escalation_delay_in_minutes: the time it has to
# acknowledge before PagerDuty pages the next level. Timeline of an unacknowledged incident:
# primary paged at 0 min, secondary at 15, the engineering manager at 45 (15 + 30); after the
# manager's 60 minutes the policy starts again from the primary (escalation_loops times).

resource "pagerduty_schedule" "primary" {
  name        = "${var.service_name} primary on-call"
  description = "Primary on-call: acknowledges within 15 minutes. Managed by Terraform (infra/pagerduty)."
  time_zone   = var.time_zone
  teams       = var.team_id == null ? null : [var.team_id]

  layer {
    name                         = "Primary weekly rotation"
    start                        = var.rotation_start
    rotation_virtual_start       = var.rotation_start
    rotation_turn_length_seconds = var.rotation_turn_length_seconds
    users                        = var.primary_user_ids
  }
}

resource "pagerduty_schedule" "secondary" {
  name        = "${var.service_name} secondary on-call"
  description = "Secondary (backup) on-call: acknowledges within 30 minutes. Managed by Terraform (infra/pagerduty)."
  time_zone   = var.time_zone
  teams       = var.team_id == null ? null : [var.team_id]

  layer {
    name                         = "Secondary weekly rotation"
    start                        = var.rotation_start
    rotation_virtual_start       = var.rotation_start
    rotation_turn_length_seconds = var.rotation_turn_length_seconds
    users                        = var.secondary_user_ids
  }
}

resource "pagerduty_escalation_policy" "product" {
  name        = "${var.service_name} on-call"
  description = "Primary 15 min, secondary 30 min, engineering manager 1 h. Managed by Terraform (infra/pagerduty)."
  num_loops   = var.escalation_loops
  teams       = var.team_id == null ? null : [var.team_id]

  rule {
    escalation_delay_in_minutes = 15
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.primary.id
    }
  }

  rule {
    escalation_delay_in_minutes = 30
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.secondary.id
    }
  }

  rule {
    escalation_delay_in_minutes = 60
    target {
      type = "user_reference"
      id   = var.engineering_manager_user_id
    }
  }
}

resource "pagerduty_service" "product" {
  name              = var.service_name
  description       = "Northstar backend and frontend. Pages come from Alertmanager (severity=critical) and Sentry (> 100 errors in 5 min)."
  escalation_policy = pagerduty_escalation_policy.product.id

  # Only critical alerts reach PagerDuty (warnings go to Slack in business hours): page at once.
  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }
}

# Alertmanager's pagerduty receiver (Events API v2): its routing key is this integration's key.
resource "pagerduty_service_integration" "alertmanager" {
  name    = "Alertmanager (Prometheus)"
  type    = "events_api_v2_inbound_integration"
  service = pagerduty_service.product.id
}

# Sentry's PagerDuty integration: its key goes to infra/sentry (var.pagerduty_sentry_integration_key).
data "pagerduty_vendor" "sentry" {
  name = "Sentry"
}

resource "pagerduty_service_integration" "sentry" {
  name    = data.pagerduty_vendor.sentry.name
  service = pagerduty_service.product.id
  vendor  = data.pagerduty_vendor.sentry.id
}
