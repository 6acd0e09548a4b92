'use client';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type FormEvent, useSyncExternalStore } from 'react';
import { api } from '@/lib/api/endpoints';
import { markSignedIn } from '@/lib/sessionHint';
import { ErrorNotice } from './ErrorNotice';
import { Field } from './Field';
import { useApiAction } from './useApiAction';

// The forms are rendered on the server (the page reads `?next=` and passes it down), so they are
// visible before JavaScript has loaded. Until React has hydrated them, their submit button is
// disabled (a native submission would bypass the API client) and `method="post"` keeps typed
// values out of the URL should one ever happen.

const noSubscription = () => () => {};
/** false in the server render and during hydration, true once React runs the form in the browser. */
function useHydrated(): boolean {
  return useSyncExternalStore(noSubscription, () => true, () => false);
}

function formValue(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === 'string' ? value : '';
}

/** `next`: where to go after success, already checked by the page (lib/navigation.ts safeNextPath). */
export function SignupForm({ next }: { next: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const { run, pending, error, fieldErrors } = useApiAction(api.signup);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const result = await run({
      name: formValue(form, 'name').trim(),
      email: formValue(form, 'email').trim(),
      password: formValue(form, 'password'),
    });
    if (result.ok) {
      markSignedIn();
      router.push(next);
    }
  }

  return (
    <form className="card narrow" method="post" onSubmit={onSubmit} noValidate aria-label="Sign up">
      <ErrorNotice error={error} />
      <Field name="name" label="Name" autoComplete="name" required maxLength={100} errors={fieldErrors.name} />
      <Field name="email" label="Email" type="email" autoComplete="email" required errors={fieldErrors.email} />
      <Field
        name="password"
        label="Password (8 to 128 characters)"
        type="password"
        autoComplete="new-password"
        required
        errors={fieldErrors.password}
      />
      <div className="row">
        <button className="btn" type="submit" disabled={pending || !hydrated}>
          {pending ? 'Creating account…' : 'Create account'}
        </button>
        <span className="muted">
          Have an account? <Link href="/login">Log in</Link>
        </span>
      </div>
    </form>
  );
}

export function LoginForm({ next }: { next: string }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const { run, pending, error, fieldErrors } = useApiAction(api.login);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const result = await run({ email: formValue(form, 'email').trim(), password: formValue(form, 'password') });
    if (result.ok) {
      markSignedIn();
      router.push(next);
    }
  }

  return (
    <form className="card narrow" method="post" onSubmit={onSubmit} noValidate aria-label="Log in">
      <ErrorNotice error={error} />
      <Field name="email" label="Email" type="email" autoComplete="email" required errors={fieldErrors.email} />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        errors={fieldErrors.password}
      />
      <div className="row">
        <button className="btn" type="submit" disabled={pending || !hydrated}>
          {pending ? 'Logging in…' : 'Log in'}
        </button>
        <span className="muted">
          New here? <Link href="/signup">Create an account</Link>
        </span>
      </div>
    </form>
  );
}
