// A proxied /api response legitimately carries ~12 one-shot 'close' listeners (Next's proxy,
// httpxy, compression, abort controllers, Sentry's request isolation). Node's default limit of
// 10 then prints a MaxListenersExceededWarning for every API call, which buries real warnings.
// The listeners die with the response, so raising the limit per response is not hiding a leak.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';

export const RESPONSE_MAX_LISTENERS = 32;

const INSTALLED = Symbol.for('app.frontend.listenerBudget');
type GlobalWithFlag = typeof globalThis & { [INSTALLED]?: boolean };

export function installResponseListenerBudget(): void {
  const g = globalThis as GlobalWithFlag;
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  diagnosticsChannel.subscribe('http.server.request.start', (message) => {
    (message as { response: ServerResponse }).response.setMaxListeners(RESPONSE_MAX_LISTENERS);
  });
}
