import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.projects import service
from app.projects.schemas import ProjectIn, ProjectOut, ProjectPage, ProjectPatch, TaskIn, TaskOut, TaskPage, TaskPatch
from app.users.deps import CurrentPrincipal, Session

router = APIRouter(prefix="/api", tags=["projects"])

Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
_401 = {401: {"description": "Not authenticated"}}
_404 = {404: {"description": "Not found (or not yours)"}, **_401}


@router.get("/projects", response_model=ProjectPage, responses=_401)
async def list_projects(principal: CurrentPrincipal, session: Session, limit: Limit = 20, offset: Offset = 0):
    return await service.list_projects(session, principal, limit, offset)


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectOut, responses=_401)
async def create_project(data: ProjectIn, principal: CurrentPrincipal, session: Session):
    return await service.create_project(session, principal, data)


@router.get(
    "/projects/{project_id}",
    response_model=ProjectOut,
    responses={200: {"headers": {"X-Cache": {"description": "hit or miss", "schema": {"type": "string"}}}}, **_404},
)
async def get_project(project_id: uuid.UUID, request: Request, principal: CurrentPrincipal, session: Session):
    body, hit = await service.get_project_json(
        session, request.app.state.cache, principal, project_id, request.app.state.settings.PROJECT_CACHE_SECONDS
    )
    return Response(body, media_type="application/json", headers={"X-Cache": "hit" if hit else "miss"})


@router.patch("/projects/{project_id}", response_model=ProjectOut, responses=_404)
async def update_project(
    project_id: uuid.UUID, data: ProjectPatch, request: Request, principal: CurrentPrincipal, session: Session
):
    return await service.update_project(session, request.app.state.cache, principal, project_id, data)


@router.delete("/projects/{project_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_404)
async def delete_project(project_id: uuid.UUID, request: Request, principal: CurrentPrincipal, session: Session):
    await service.delete_project(session, request.app.state.cache, principal, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/projects/{project_id}/tasks", response_model=TaskPage, tags=["tasks"], responses=_404)
async def list_tasks(
    project_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: Session,
    limit: Limit = 20,
    offset: Offset = 0,
    done: bool | None = None,
):
    return await service.list_tasks(session, principal, project_id, limit, offset, done)


@router.post(
    "/projects/{project_id}/tasks",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    tags=["tasks"],
    responses=_404,
)
async def create_task(project_id: uuid.UUID, data: TaskIn, principal: CurrentPrincipal, session: Session):
    return await service.create_task(session, principal, project_id, data)


@router.patch("/tasks/{task_id}", response_model=TaskOut, tags=["tasks"], responses=_404)
async def update_task(task_id: uuid.UUID, data: TaskPatch, principal: CurrentPrincipal, session: Session):
    return await service.update_task(session, principal, task_id, data)


@router.post("/tasks/{task_id}/complete", response_model=TaskOut, tags=["tasks"], responses=_404)
async def complete_task(task_id: uuid.UUID, principal: CurrentPrincipal, session: Session):
    return await service.complete_task(session, principal, task_id)


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["tasks"], responses=_404)
async def delete_task(task_id: uuid.UUID, principal: CurrentPrincipal, session: Session):
    await service.delete_task(session, principal, task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
