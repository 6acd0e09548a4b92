import type { Metadata } from 'next';
import { Suspense } from 'react';
import { SignupForm } from '@/components/AuthForms';

export const metadata: Metadata = { title: 'Sign up' };

export default function SignupPage() {
  return (
    <>
      <h1 className="centered">Create your account</h1>
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <SignupForm />
      </Suspense>
    </>
  );
}
