'use client';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, useEffect, useState } from 'react';
import { api } from '@/lib/api/endpoints';
import type { Page, Project } from '@/lib/api/types';
import { ErrorNotice } from './ErrorNotice';
import { Field, TextAreaField } from './Field';
import { useApiAction } from './useApiAction';
import { useUnauthorizedRedirect } from './useUnauthorizedRedirect';

const PAGE_SIZE = 10;

function pageFromParam(value: string | null): number {
  const page = Number.parseInt(value ?? '1', 10);
  return Number.isFinite(page) && page >= 1 && page <= 100000 ? page : 1;
}

export function ProjectsPanel() {
  const router = useRouter();
  const page = pageFromParam(useSearchParams().get('page'));
  const offset = (page - 1) * PAGE_SIZE;
  const [data, setData] = useState<Page<Project> | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  const redirectIfUnauthorized = useUnauthorizedRedirect();
  const create = useApiAction(api.createProject);

  useEffect(() => {
    let current = true;
    setLoadError(null);
    api.listProjects(PAGE_SIZE, offset).then(
      (result) => current && setData(result),
      (error: unknown) => {
        if (!current || redirectIfUnauthorized(error)) return;
        setLoadError(error);
      },
    );
    return () => {
      current = false;
    };
  }, [offset, reloads, redirectIfUnauthorized]);

  async function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    const name = String(values.get('name') ?? '').trim();
    const description = String(values.get('description') ?? '').trim();
    const result = await create.run(description ? { name, description } : { name });
    if (result.ok) {
      form.reset();
      if (page === 1) setReloads((n) => n + 1);
      else router.push('/dashboard');
    } else {
      redirectIfUnauthorized(result.error);
    }
  }

  const totalPages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;

  return (
    <>
      <form className="card" onSubmit={onCreate} noValidate aria-label="New project">
        <h2 className="flush-top">New project</h2>
        <ErrorNotice error={create.error} />
        <Field name="name" label="Name" required maxLength={200} errors={create.fieldErrors.name} />
        <TextAreaField name="description" label="Description (optional)" maxLength={2000} errors={create.fieldErrors.description} />
        <button className="btn" type="submit" disabled={create.pending}>
          {create.pending ? 'Creating…' : 'Create project'}
        </button>
      </form>

      <section className="card" aria-label="Projects" aria-busy={data === null && !loadError}>
        <h2 className="flush-top">Your projects</h2>
        <ErrorNotice error={loadError} />
        {data === null && !loadError && <p className="loading">Loading projects…</p>}
        {data !== null && data.items.length === 0 && (
          <p className="empty">{page === 1 ? 'No projects yet. Create your first one above.' : 'No projects on this page.'}</p>
        )}
        {data !== null && data.items.length > 0 && (
          <ul className="list" data-testid="project-list">
            {data.items.map((project) => (
              <li key={project.id}>
                <div>
                  <Link href={`/projects/${project.id}`}>{project.name}</Link>
                  {project.description && <div className="muted">{project.description}</div>}
                </div>
              </li>
            ))}
          </ul>
        )}
        {data !== null && data.total > PAGE_SIZE && (
          <nav className="pager" aria-label="Pages">
            {page > 1 ? <Link href={`/dashboard?page=${page - 1}`}>← Previous</Link> : <span className="muted">← Previous</span>}
            <span>
              Page {page} of {totalPages}
            </span>
            {page < totalPages ? <Link href={`/dashboard?page=${page + 1}`}>Next →</Link> : <span className="muted">Next →</span>}
          </nav>
        )}
      </section>
    </>
  );
}
