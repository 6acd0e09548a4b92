'use client';
import Link from 'next/link';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api } from '@/lib/api/endpoints';
import { ApiError } from '@/lib/api/errors';
import type { Project, Task } from '@/lib/api/types';
import { ErrorNotice } from './ErrorNotice';
import { Field } from './Field';
import { useApiAction } from './useApiAction';
import { useUnauthorizedRedirect } from './useUnauthorizedRedirect';

const TASK_LIMIT = 100;

function isMissing(error: unknown): boolean {
  // 422 here means the ID in the URL is not a UUID: for the user that is "no such project".
  return error instanceof ApiError && (error.kind === 'not_found' || error.kind === 'validation');
}

export function ProjectDetail({ projectId }: { projectId: string }) {
  const [project, setProject] = useState<Project | null>(null);
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [totalTasks, setTotalTasks] = useState(0);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const redirectIfUnauthorized = useUnauthorizedRedirect();
  const addTask = useApiAction(api.createTask);

  useEffect(() => {
    let current = true;
    Promise.all([api.getProject(projectId), api.listTasks(projectId, TASK_LIMIT, 0)]).then(
      ([loadedProject, page]) => {
        if (!current) return;
        setProject(loadedProject);
        setTasks(page.items);
        setTotalTasks(page.total);
      },
      (error: unknown) => {
        if (!current || redirectIfUnauthorized(error)) return;
        setLoadError(error);
      },
    );
    return () => {
      current = false;
    };
  }, [projectId, redirectIfUnauthorized]);

  const withBusy = useCallback(
    async (taskId: string, work: () => Promise<void>) => {
      setBusy((s) => new Set(s).add(taskId));
      setActionError(null);
      try {
        await work();
      } catch (error) {
        if (!redirectIfUnauthorized(error)) setActionError(error);
      } finally {
        setBusy((s) => {
          const next = new Set(s);
          next.delete(taskId);
          return next;
        });
      }
    },
    [redirectIfUnauthorized],
  );

  async function onAdd(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const title = String(new FormData(form).get('title') ?? '').trim();
    const result = await addTask.run(projectId, { title });
    if (result.ok) {
      form.reset();
      setTasks((list) => [...(list ?? []), result.value]);
      setTotalTasks((n) => n + 1);
    } else {
      redirectIfUnauthorized(result.error);
    }
  }

  const complete = (task: Task) =>
    withBusy(task.id, async () => {
      const updated = await api.completeTask(task.id);
      setTasks((list) => (list ?? []).map((t) => (t.id === updated.id ? updated : t)));
    });

  const remove = (task: Task) =>
    withBusy(task.id, async () => {
      await api.deleteTask(task.id);
      setTasks((list) => (list ?? []).filter((t) => t.id !== task.id));
      setTotalTasks((n) => Math.max(0, n - 1));
    });

  if (loadError && isMissing(loadError)) {
    return (
      <div className="card">
        <h1>Project not found</h1>
        <p className="muted">It may have been deleted, or it belongs to another workspace.</p>
        <Link href="/dashboard">Back to your projects</Link>
      </div>
    );
  }

  return (
    <>
      <p>
        <Link href="/dashboard">← All projects</Link>
      </p>
      <ErrorNotice error={loadError} />
      {!loadError && project === null && <p className="loading">Loading project…</p>}
      {project && (
        <>
          <h1>{project.name}</h1>
          {project.description && <p className="muted">{project.description}</p>}

          <form className="card" onSubmit={onAdd} noValidate aria-label="New task">
            <ErrorNotice error={addTask.error} />
            <Field name="title" label="Task title" required maxLength={500} errors={addTask.fieldErrors.title} />
            <button className="btn" type="submit" disabled={addTask.pending}>
              {addTask.pending ? 'Adding…' : 'Add task'}
            </button>
          </form>

          <section className="card" aria-label="Tasks">
            <h2 className="flush-top">Tasks</h2>
            <ErrorNotice error={actionError} />
            {tasks !== null && tasks.length === 0 && <p className="empty">No tasks yet. Add the first one above.</p>}
            {tasks !== null && tasks.length > 0 && (
              <ul className="list" data-testid="task-list">
                {tasks.map((task) => (
                  <li key={task.id}>
                    <span className={task.done ? 'done' : undefined}>{task.title}</span>
                    <span className="spacer" />
                    {!task.done && (
                      <button className="btn btn-secondary btn-small" disabled={busy.has(task.id)} onClick={() => complete(task)}>
                        Complete
                      </button>
                    )}
                    <button className="btn btn-danger btn-small" disabled={busy.has(task.id)} onClick={() => remove(task)}>
                      Delete
                    </button>
                  </li>
                ))}
              </ul>
            )}
            {tasks !== null && totalTasks > tasks.length && (
              <p className="muted">Showing the first {tasks.length} of {totalTasks} tasks.</p>
            )}
          </section>
        </>
      )}
    </>
  );
}
