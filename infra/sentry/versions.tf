terraform {
  required_version = ">= 1.5"

  required_providers {
    sentry = {
      source = "jianyuan/sentry"
      # Resource and attribute names checked against the v0.14.13 documentation
      # (infra/tests/terraform_providers.py). 0.15 deprecates sentry_issue_alert and
      # sentry_metric_alert in favour of sentry_alert + sentry_metric_monitor: see README.md.
      version = "~> 0.14.13"
    }
  }
}

provider "sentry" {
  # null: the provider reads SENTRY_AUTH_TOKEN from the environment. Never commit a token.
  token    = var.sentry_auth_token
  base_url = var.sentry_base_url
}
