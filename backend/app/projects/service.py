"""Projects and tasks, always scoped to the caller's workspace (someone else's rows are 404)."""

import uuid

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.events import track_event
from app.core.errors import NotFound
from app.core.redis import Cache
from app.projects.models import Project, Task
from app.projects.schemas import ProjectIn, ProjectOut, ProjectPage, ProjectPatch, TaskIn, TaskOut, TaskPage, TaskPatch
from app.users.service import Principal

PROJECT_NOT_FOUND = "Project not found"
TASK_NOT_FOUND = "Task not found"


def project_cache_key(cache: Cache, project_id: uuid.UUID) -> str:
    return cache.key("project", str(project_id))


async def list_projects(session: AsyncSession, principal: Principal, limit: int, offset: int) -> ProjectPage:
    scope = Project.workspace_id == principal.workspace_id
    total = await session.scalar(select(func.count()).select_from(Project).where(scope))
    rows = await session.scalars(
        select(Project).where(scope).order_by(Project.created_at.desc(), Project.id.desc()).limit(limit).offset(offset)
    )
    return ProjectPage(
        items=[ProjectOut.model_validate(p) for p in rows], total=total or 0, limit=limit, offset=offset
    )


async def create_project(session: AsyncSession, principal: Principal, data: ProjectIn) -> ProjectOut:
    project = Project(id=uuid.uuid4(), workspace_id=principal.workspace_id, name=data.name, description=data.description)
    session.add(project)
    track_event(
        session,
        "project_created",
        str(principal.user_id),
        {"project_id": str(project.id), "workspace_id": str(principal.workspace_id)},
    )
    out = await _read_back(session, project, ProjectOut)
    await session.commit()
    return out


async def _read_back(session: AsyncSession, row, schema):  # noqa: ANN001, ANN202
    """Serialise a row with its server-side defaults, read inside the writing transaction.

    Our UPDATE/INSERT holds the row until commit; reading it back after the commit instead
    races a concurrent DELETE, and the refresh then raises (schemathesis found that as a 500).
    """
    await session.flush()
    await session.refresh(row)
    return schema.model_validate(row)


async def _owned_project(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Project:
    project = await session.scalar(
        select(Project).where(Project.id == project_id, Project.workspace_id == principal.workspace_id)
    )
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project


async def get_project_json(
    session: AsyncSession, cache: Cache, principal: Principal, project_id: uuid.UUID, ttl: int
) -> tuple[bytes, bool]:
    """The project as JSON bytes and whether it came from Redis (cache-aside)."""
    key = project_cache_key(cache, project_id)
    cached = await cache.get(key)
    if cached is not None:
        # The cache is shared by all users: check ownership on every hit.
        if orjson.loads(cached).get("workspace_id") != str(principal.workspace_id):
            raise NotFound(PROJECT_NOT_FOUND)
        return cached, True
    project = await _owned_project(session, principal, project_id)
    body = ProjectOut.model_validate(project).model_dump_json().encode()
    await cache.set(key, body, ttl)
    return body, False


async def update_project(
    session: AsyncSession, cache: Cache, principal: Principal, project_id: uuid.UUID, data: ProjectPatch
) -> ProjectOut:
    project = await _owned_project(session, principal, project_id)
    for field in data.model_fields_set:
        setattr(project, field, getattr(data, field))
    out = await _read_back(session, project, ProjectOut)
    await session.commit()
    await cache.delete(project_cache_key(cache, project_id))
    return out


async def delete_project(session: AsyncSession, cache: Cache, principal: Principal, project_id: uuid.UUID) -> None:
    project = await _owned_project(session, principal, project_id)
    await session.delete(project)  # tasks go with it (ON DELETE CASCADE)
    await session.commit()
    await cache.delete(project_cache_key(cache, project_id))


async def list_tasks(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, limit: int, offset: int, done: bool | None
) -> TaskPage:
    await _owned_project(session, principal, project_id)
    conditions = [Task.project_id == project_id]
    if done is not None:
        conditions.append(Task.done == done)
    total = await session.scalar(select(func.count()).select_from(Task).where(*conditions))
    rows = await session.scalars(
        select(Task).where(*conditions).order_by(Task.created_at.desc(), Task.id.desc()).limit(limit).offset(offset)
    )
    return TaskPage(items=[TaskOut.model_validate(t) for t in rows], total=total or 0, limit=limit, offset=offset)


async def create_task(session: AsyncSession, principal: Principal, project_id: uuid.UUID, data: TaskIn) -> TaskOut:
    await _owned_project(session, principal, project_id)
    task = Task(id=uuid.uuid4(), project_id=project_id, title=data.title, done=False)
    session.add(task)
    out = await _read_back(session, task, TaskOut)
    await session.commit()
    return out


async def _owned_task_for_update(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> Task:
    # Row lock: concurrent completions serialise, so task_completed is tracked exactly once.
    task = await session.scalar(
        select(Task)
        .join(Project, Project.id == Task.project_id)
        .where(Task.id == task_id, Project.workspace_id == principal.workspace_id)
        .with_for_update(of=Task)
    )
    if task is None:
        raise NotFound(TASK_NOT_FOUND)
    return task


async def update_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID, data: TaskPatch) -> TaskOut:
    task = await _owned_task_for_update(session, principal, task_id)
    if data.title is not None:
        task.title = data.title
    if data.done is not None and data.done != task.done:
        task.done = data.done
        task.completed_at = func.now() if data.done else None
        if data.done:
            track_event(
                session,
                "task_completed",
                str(principal.user_id),
                {"task_id": str(task.id), "project_id": str(task.project_id)},
            )
    out = await _read_back(session, task, TaskOut)
    await session.commit()
    return out


async def complete_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> TaskOut:
    return await update_task(session, principal, task_id, TaskPatch(done=True))


async def delete_task(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> None:
    task = await _owned_task_for_update(session, principal, task_id)
    await session.delete(task)
    await session.commit()
