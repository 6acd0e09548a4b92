// Shapes from docs/contracts.md ("HTTP API").

export type Plan = 'free' | 'pro';

export interface User {
  id: string;
  email: string;
  name: string;
  plan: Plan;
  workspace_id: string;
  created_at: string;
}

export interface AuthResponse {
  user: User;
  token: string; // also set as the httpOnly session cookie (PRODUCT_SESSION_COOKIE); never stored by the frontend
}

export interface Project {
  id: string;
  workspace_id: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface Task {
  id: string;
  project_id: string;
  title: string;
  done: boolean;
  completed_at: string | null;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type BusinessEvent = 'page_viewed' | 'upgrade_clicked';
export type VitalName = 'LCP' | 'CLS' | 'INP' | 'FCP' | 'TTFB';

export interface VitalPayload {
  name: VitalName;
  /** In web-vitals' unit: milliseconds for LCP/FCP/TTFB/INP, unitless for CLS (the backend converts). */
  value: number;
  page: string;
  rating?: 'good' | 'needs-improvement' | 'poor';
  id?: string;
}
