import type { Metadata } from 'next';
import { Suspense } from 'react';
import { LoginForm } from '@/components/AuthForms';

export const metadata: Metadata = { title: 'Log in' };

export default function LoginPage() {
  return (
    <>
      <h1 className="centered">Log in</h1>
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <LoginForm />
      </Suspense>
    </>
  );
}
