# The seed's Sentry alerts ("What to Monitor in Sentry" > Alerts), the same thresholds, windows
# and destinations as the Prometheus rules (monitoring/rules/catalogue.py) and their Alertmanager
# routes (monitoring/alertmanager_config.py); infra/tests/test_terraform_saas.py checks both.
#   > 10 errors in 5 min          -> Slack #alerts      (ErrorBurst, warning)
#   > 100 errors in 5 min         -> page on-call       (ErrorStorm, critical: PagerDuty + #alerts)
#   new error type                -> Slack #engineering (NewErrorType)
#   performance regression > 20%  -> Slack #alerts      (LatencyRegression: p95 vs one day earlier)
# Sentry counts error events; Prometheus counts unhandled exceptions. Both fire for the same
# outage: Sentry's alert also sees handled errors and the browser's.

locals {
  owner = var.owner_team_id == null ? null : "team:${var.owner_team_id}"
}

# Integrations are installed once by hand in Sentry's UI (OAuth); Terraform only looks them up.
data "sentry_organization_integration" "slack" {
  organization = var.organization
  provider_key = "slack"
  name         = var.slack_workspace_name
}

data "sentry_organization_integration" "pagerduty" {
  organization = var.organization
  provider_key = "pagerduty"
  name         = var.pagerduty_account_name
}

# The PagerDuty service (infra/pagerduty) as a target of Sentry's PagerDuty integration.
resource "sentry_integration_pagerduty" "product" {
  organization    = var.organization
  integration_id  = data.sentry_organization_integration.pagerduty.id
  service         = var.pagerduty_service_name
  integration_key = var.pagerduty_sentry_integration_key
}

# ErrorBurst (warning) and ErrorStorm (critical) as the two triggers of one metric alert:
# Sentry wants the critical trigger first, and its threshold above the warning's.
resource "sentry_metric_alert" "errors" {
  organization   = var.organization
  project        = var.project
  name           = "Northstar errors: > 10 (Slack) / > 100 (page) in 5 min"
  environment    = var.environment
  owner          = local.owner
  dataset        = "events"
  event_types    = ["error", "default"]
  query          = ""
  aggregate      = "count()"
  time_window    = 5
  threshold_type = 0 # above

  trigger {
    label           = "critical"
    alert_threshold = 100
    threshold_type  = 0

    action {
      type              = "pagerduty"
      target_type       = "specific"
      target_identifier = sentry_integration_pagerduty.product.id
      integration_id    = data.sentry_organization_integration.pagerduty.id
      priority          = "critical"
    }

    action {
      type              = "slack"
      target_type       = "specific"
      target_identifier = "#alerts"
      integration_id    = data.sentry_organization_integration.slack.id
    }
  }

  trigger {
    label           = "warning"
    alert_threshold = 10
    threshold_type  = 0

    action {
      type              = "slack"
      target_type       = "specific"
      target_identifier = "#alerts"
      integration_id    = data.sentry_organization_integration.slack.id
    }
  }
}

# LatencyRegression: p95 of transactions over 5 min more than 20% above the same window one day
# earlier (a percent-change alert: comparison_delta in minutes, alert_threshold in percent).
# A metric alert's only or first trigger must be labelled "critical"; it posts to Slack only.
resource "sentry_metric_alert" "latency_regression" {
  organization     = var.organization
  project          = var.project
  name             = "Northstar p95 latency > 20% above a day earlier"
  environment      = var.environment
  owner            = local.owner
  dataset          = "generic_metrics"
  query            = ""
  aggregate        = "p95(transaction.duration)"
  time_window      = 5
  comparison_delta = 1440
  threshold_type   = 0

  trigger {
    label           = "critical"
    alert_threshold = 20
    threshold_type  = 0

    action {
      type              = "slack"
      target_type       = "specific"
      target_identifier = "#alerts"
      integration_id    = data.sentry_organization_integration.slack.id
    }
  }
}

# NewErrorType: a new issue of the error category -> Slack #engineering, at any time.
resource "sentry_issue_alert" "new_error_type" {
  organization = var.organization
  project      = var.project
  name         = "Northstar new error type"
  environment  = var.environment
  owner        = local.owner
  action_match = "any"
  filter_match = "all"
  frequency    = 30

  conditions_v2 = [
    { first_seen_event = {} },
  ]

  filters_v2 = [
    { issue_category = { value = "Error" } },
  ]

  actions_v2 = [
    {
      slack_notify_service = {
        workspace = data.sentry_organization_integration.slack.id
        channel   = "#engineering"
        tags      = ["environment", "level", "request_id"]
      }
    },
  ]
}
