import Link from 'next/link';
import { PRODUCT_NAME } from '@/lib/product';

export default function LandingPage() {
  return (
    <>
      <section className="hero">
        <h1>Keep every project on course.</h1>
        <p className="muted">{PRODUCT_NAME} keeps your team&apos;s projects and tasks in one calm place.</p>
        <div className="row">
          <Link className="btn" href="/signup">
            Get started free
          </Link>
          <Link className="btn btn-secondary" href="/login">
            Log in
          </Link>
        </div>
      </section>
      <div className="grid">
        <section className="card">
          <h2 className="flush-top">Projects</h2>
          <p className="muted">One place per initiative, with a short description everyone can read.</p>
        </section>
        <section className="card">
          <h2 className="flush-top">Tasks</h2>
          <p className="muted">Add, complete and clear tasks in a click.</p>
        </section>
        <section className="card">
          <h2 className="flush-top">Pro</h2>
          <p className="muted">
            Need more? See <Link href="/pricing">pricing</Link>.
          </p>
        </section>
      </div>
    </>
  );
}
