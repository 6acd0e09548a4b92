'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { api } from '@/lib/api/endpoints';
import { ApiError } from '@/lib/api/errors';
import type { Plan } from '@/lib/api/types';
import { trackUpgradeClicked } from '@/lib/events';
import { ErrorNotice } from './ErrorNotice';
import { useApiAction } from './useApiAction';
import { useUnauthorizedRedirect } from './useUnauthorizedRedirect';

type PlanState = { status: 'loading' } | { status: 'anonymous' } | { status: 'known'; plan: Plan } | { status: 'error'; error: unknown };

/**
 * `hasSession`: the request carried the session cookie (read by the server page). Without one the
 * visitor is signed out: the plans and a login link are rendered at once, on the server, and the
 * plan endpoint (which would answer 401) is not called.
 */
export function PricingPanel({ hasSession }: { hasSession: boolean }) {
  const pathname = usePathname();
  const [state, setState] = useState<PlanState>(hasSession ? { status: 'loading' } : { status: 'anonymous' });
  const [notice, setNotice] = useState<string | null>(null);
  const upgrade = useApiAction(api.upgrade);
  const redirectIfUnauthorized = useUnauthorizedRedirect();

  useEffect(() => {
    if (!hasSession) return;
    let current = true;
    api.getPlan().then(
      ({ plan }) => current && setState({ status: 'known', plan }),
      (error: unknown) => {
        if (!current) return;
        // Pricing is public: without a session we show the plans and a login link.
        if (error instanceof ApiError && error.kind === 'unauthorized') setState({ status: 'anonymous' });
        else setState({ status: 'error', error });
      },
    );
    return () => {
      current = false;
    };
  }, [hasSession]);

  async function onUpgrade() {
    setNotice(null);
    // Recorded before the upgrade starts, not beside it: both events go through the backend's outbox,
    // and sent together the upgrade could commit first (seen under load), putting plan_upgraded
    // before upgrade_clicked in Mixpanel's funnel. send() never throws; a failure only loses the click.
    await trackUpgradeClicked(pathname);
    const result = await upgrade.run();
    if (result.ok) {
      setState({ status: 'known', plan: result.value.plan });
      setNotice('Welcome to Pro! Your workspace has been upgraded.');
      return;
    }
    const error = result.error;
    if (redirectIfUnauthorized(error)) return;
    if (error instanceof ApiError && error.kind === 'conflict') {
      upgrade.clearError();
      setState({ status: 'known', plan: 'pro' });
      setNotice('You are already on Pro.');
    }
  }

  const plan = state.status === 'known' ? state.plan : null;
  const providerTrouble = upgrade.error instanceof ApiError && (upgrade.error.status === 502 || upgrade.error.status === 504);

  return (
    <>
      {state.status === 'error' && <ErrorNotice error={state.error} />}
      {notice && (
        <div className="notice" role="status">
          {notice}
        </div>
      )}
      {upgrade.error !== null && (
        <>
          {providerTrouble && (
            <div className="notice">Our payment provider is not responding. Your plan has not changed; please try again shortly.</div>
          )}
          <ErrorNotice error={upgrade.error} />
        </>
      )}
      <div className="grid">
        <section className="card" aria-label="Free plan">
          <h2 className="flush-top">Free {plan === 'free' && <span className="badge">Current plan</span>}</h2>
          <p className="price">€0</p>
          <ul>
            <li>Unlimited projects and tasks</li>
            <li>Community support</li>
          </ul>
        </section>
        <section className="card" aria-label="Pro plan">
          <h2 className="flush-top">Pro {plan === 'pro' && <span className="badge">Current plan</span>}</h2>
          <p className="price">€19 / month</p>
          <ul>
            <li>Everything in Free</li>
            <li>Priority support</li>
          </ul>
          {state.status === 'loading' && <p className="loading">Checking your plan…</p>}
          {state.status === 'anonymous' && (
            <p>
              <Link className="btn" href="/login?next=/pricing">
                Log in to upgrade
              </Link>
            </p>
          )}
          {plan === 'free' && (
            <button className="btn" type="button" onClick={onUpgrade} disabled={upgrade.pending}>
              {upgrade.pending ? 'Upgrading…' : 'Upgrade to Pro'}
            </button>
          )}
          {plan === 'pro' && <p className="muted">You are on Pro. Thank you!</p>}
        </section>
      </div>
    </>
  );
}
