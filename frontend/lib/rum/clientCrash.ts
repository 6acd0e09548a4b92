// The client_crash fault (backend/app/faults/catalogue.json): while it is on, the backend marks
// every /api response with X-Fault-Client-Crash: 1 and the API client calls noteFaultHeaders,
// which throws an uncaught InjectedClientCrash, a real browser crash for Sentry and the RUM error
// count. The header only exists when the backend runs with FAULT_INJECTION_ENABLED=true (never in
// production), so there is nothing to switch off here. The error beacon's own response never
// crashes, or one crash would report itself forever.

import { ERROR_BEACON_PATH } from './paths';

export const CLIENT_CRASH_HEADER = 'X-Fault-Client-Crash';

export class InjectedClientCrash extends Error {
  constructor(path: string) {
    super(`injected client crash after ${path}`);
    this.name = 'InjectedClientCrash';
  }
}

type Schedule = (crash: () => void) => void;
const later: Schedule = (crash) => setTimeout(crash, 0);

/** Crash (asynchronously, uncaught) when the response says the fault is on; returns whether it will. */
export function noteFaultHeaders(headers: Pick<Headers, 'get'>, path: string, schedule: Schedule = later): boolean {
  if (headers.get(CLIENT_CRASH_HEADER) !== '1' || path === ERROR_BEACON_PATH) return false;
  schedule(() => {
    throw new InjectedClientCrash(path);
  });
  return true;
}
