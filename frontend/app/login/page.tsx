import type { Metadata } from 'next';
import { LoginForm } from '@/components/AuthForms';
import { safeNextPath } from '@/lib/navigation';
import { type SearchParams, firstParam } from '@/lib/searchParams';

export const metadata: Metadata = { title: 'Log in' };

// `?next=` is read here, on the server, so the form is part of the server-rendered HTML
// (useSearchParams() in the form would make it render only in the browser).
export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const next = safeNextPath(firstParam(await searchParams, 'next'));
  return (
    <>
      <h1 className="centered">Log in</h1>
      <LoginForm next={next} />
    </>
  );
}
