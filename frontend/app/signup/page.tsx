import type { Metadata } from 'next';
import { SignupForm } from '@/components/AuthForms';
import { safeNextPath } from '@/lib/navigation';
import { type SearchParams, firstParam } from '@/lib/searchParams';

export const metadata: Metadata = { title: 'Sign up' };

// `?next=` is read on the server: the form is in the server-rendered HTML (see app/login/page.tsx).
export default async function SignupPage({ searchParams }: { searchParams: SearchParams }) {
  const next = safeNextPath(firstParam(await searchParams, 'next'));
  return (
    <>
      <h1 className="centered">Create your account</h1>
      <SignupForm next={next} />
    </>
  );
}
