// One function per backend endpoint the UI uses (docs/contracts.md).

import { apiRequest } from './client';
import type { AuthResponse, BusinessEvent, Page, Plan, Project, Task, User, VitalPayload } from './types';

const enc = encodeURIComponent;

export const api = {
  signup: (body: { email: string; password: string; name: string }) =>
    apiRequest<AuthResponse>('POST', '/api/auth/signup', { body }),
  login: (body: { email: string; password: string }) => apiRequest<AuthResponse>('POST', '/api/auth/login', { body }),
  logout: () => apiRequest<void>('POST', '/api/auth/logout'),
  me: () => apiRequest<User>('GET', '/api/me'),

  listProjects: (limit: number, offset: number) =>
    apiRequest<Page<Project>>('GET', `/api/projects?limit=${limit}&offset=${offset}`),
  createProject: (body: { name: string; description?: string }) =>
    apiRequest<Project>('POST', '/api/projects', { body }),
  getProject: (projectId: string) => apiRequest<Project>('GET', `/api/projects/${enc(projectId)}`),
  deleteProject: (projectId: string) => apiRequest<void>('DELETE', `/api/projects/${enc(projectId)}`),

  listTasks: (projectId: string, limit: number, offset: number) =>
    apiRequest<Page<Task>>('GET', `/api/projects/${enc(projectId)}/tasks?limit=${limit}&offset=${offset}`),
  createTask: (projectId: string, body: { title: string }) =>
    apiRequest<Task>('POST', `/api/projects/${enc(projectId)}/tasks`, { body }),
  completeTask: (taskId: string) => apiRequest<Task>('POST', `/api/tasks/${enc(taskId)}/complete`),
  deleteTask: (taskId: string) => apiRequest<void>('DELETE', `/api/tasks/${enc(taskId)}`),

  getPlan: () => apiRequest<{ plan: Plan }>('GET', '/api/billing/plan'),
  upgrade: () => apiRequest<{ plan: Plan }>('POST', '/api/billing/upgrade', { body: { plan: 'pro' } }),

  sendVital: (body: VitalPayload) =>
    apiRequest<void>('POST', '/api/rum/vitals', { body, keepalive: true, background: true }),
  sendEvent: (event: BusinessEvent, page: string) =>
    apiRequest<void>('POST', '/api/events', { body: { event, page }, keepalive: true, background: true }),
};
