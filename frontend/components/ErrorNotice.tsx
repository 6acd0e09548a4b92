import { ApiError } from '@/lib/api/errors';

/** A failed call, as the user should see it; 5xx and network failures show the request ID. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return (
      <div className="alert" role="alert">
        <p>Something unexpected happened. Please try again.</p>
      </div>
    );
  }
  return (
    <div className="alert" role="alert" data-error-kind={error.kind}>
      <p>{error.message}</p>
      {error.formErrors.map((message) => (
        <p key={message}>{message}</p>
      ))}
      {error.isSupportCase && (
        <p>
          Request ID: <code data-testid="request-id">{error.requestId}</code> — quote this when you contact support.
        </p>
      )}
    </div>
  );
}
