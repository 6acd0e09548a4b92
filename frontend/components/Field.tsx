import type { InputHTMLAttributes, TextareaHTMLAttributes } from 'react';

interface Common {
  name: string;
  label: string;
  errors?: string[] | undefined;
}

function describe(name: string, errors: string[] | undefined) {
  const id = `field-${name}`;
  const errorId = `${id}-error`;
  const invalid = Boolean(errors && errors.length > 0);
  return {
    id,
    errorId,
    invalid,
    control: { id, name, 'aria-invalid': invalid, 'aria-describedby': invalid ? errorId : undefined },
  };
}

function Shell({ id, errorId, name, label, errors, children }: Common & { id: string; errorId: string; children: React.ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {errors && errors.length > 0 && (
        <p className="field-error" id={errorId} data-testid={`error-${name}`}>
          {errors.join(' ')}
        </p>
      )}
    </div>
  );
}

/** Label, input and the backend's validation messages for that field. */
export function Field({ name, label, errors, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const d = describe(name, errors);
  return (
    <Shell id={d.id} errorId={d.errorId} name={name} label={label} errors={errors}>
      <input {...input} {...d.control} />
    </Shell>
  );
}

export function TextAreaField({ name, label, errors, ...area }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const d = describe(name, errors);
  return (
    <Shell id={d.id} errorId={d.errorId} name={name} label={label} errors={errors}>
      <textarea rows={3} {...area} {...d.control} />
    </Shell>
  );
}
