"use client";

import { useRouter } from "next/navigation";
import { createContext, useContext, useEffect, useId, useRef, useState, useTransition, type ReactNode } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { formatTime } from "./deployment-status";

/** A value shown once (a generated password, a token): the server never shows it again. */
export interface ShownOnce {
  label: string;
  value: string;
  note?: string;
}

/** `redirectTo`: where the person goes next once the action succeeded (e.g. the live view of what they started). */
type Result = ActionResult<{ shownOnce?: ShownOnce; redirectTo?: string } | undefined>;

const FieldErrors = createContext<Record<string, string[]>>({});

/**
 * When the call itself failed (the network dropped it, the server restarted mid-request, a proxy answered instead):
 * the action may or may not have run, so the person is told to check before doing it again.
 */
export const REQUEST_LOST = "The request did not reach Releasegate or its answer was lost. Check whether it took effect before trying again.";

/** The same, for an action that takes effect once however often it is sent (a verdict, an approval): sending it again is the check. */
export const REQUEST_LOST_RETRY_SAFE = "The request did not reach Releasegate or its answer was lost. Send it again: it takes effect only once.";

/**
 * Calls a server action and turns a failed call into that message. runAction (lib/entry/action.ts) answers every
 * outcome of the server's own work, so a rejection here is the transport's; left to bubble, it would replace the
 * page, and what the person typed, with the error page.
 */
export async function callAction<T>(action: () => Promise<T>, lost = REQUEST_LOST): Promise<T | { ok: false; error: string }> {
  try {
    return await action();
  } catch {
    return { ok: false, error: lost };
  }
}

/**
 * Whether the page's script has taken over (false in the server's HTML and until hydration). The forms here submit
 * through their script: before it runs, a click would make the browser send the form itself, as a GET with every
 * field, passwords included, in the address (history, logs), and nothing would be done. So their submit buttons stay
 * disabled until then, which also makes a person's (or a test's) click wait for a form that can act on it.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}

/**
 * A form bound to a server action. Unlike a plain <form action>, it keeps what the person typed when the server
 * refuses the input (React resets forms after an action), shows the server's message and per-field errors, and
 * disables itself while the request runs so a double click cannot submit twice. A request that fails on the way
 * keeps the page and the input too, with REQUEST_LOST on the form.
 */
export function ActionForm({
  action,
  children,
  submitLabel,
  pendingLabel,
  confirm,
  className,
  variant = "primary",
  resetOnSuccess = true,
  inline = false,
  retrySafe = false,
}: {
  action: (formData: FormData) => Promise<Result>;
  children?: ReactNode;
  submitLabel: string;
  pendingLabel?: string;
  confirm?: string;
  className?: string;
  variant?: ButtonVariant;
  resetOnSuccess?: boolean;
  inline?: boolean;
  /** The action takes effect once however often it is sent: a lost request says to send it again. */
  retrySafe?: boolean;
}) {
  const [result, setResult] = useState<Result | null>(null);
  const [pending, startTransition] = useTransition();
  const hydrated = useHydrated();
  const formRef = useRef<HTMLFormElement>(null);
  const router = useRouter();

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (confirm && !window.confirm(confirm)) return;
    const form = event.currentTarget;
    const data = new FormData(form);
    startTransition(async () => {
      const r = await callAction(() => action(data), retrySafe ? REQUEST_LOST_RETRY_SAFE : REQUEST_LOST);
      setResult(r);
      if (r.ok && resetOnSuccess) form.reset();
      if (r.ok && r.data?.redirectTo) router.push(r.data.redirectTo);
      // The page showed a state that no longer holds: show the one that does, beside the refusal.
      if (!r.ok && "stale" in r && r.stale) router.refresh();
    });
  }

  const fieldErrors = result && !result.ok ? (result.fieldErrors ?? {}) : {};
  const shownOnce = result?.ok ? result.data?.shownOnce : undefined;
  return (
    <FieldErrors.Provider value={fieldErrors}>
      {/* method="post": should the browser ever send it itself, nothing typed goes into the address (useHydrated). */}
      <form ref={formRef} method="post" onSubmit={onSubmit} className={className ?? (inline ? "inline-flex items-center gap-2" : "space-y-4")} noValidate>
        {children}
        <div className={inline ? "contents" : "flex items-center gap-3"}>
          <Button type="submit" variant={variant} disabled={pending || !hydrated}>
            {pending ? (pendingLabel ?? "Working…") : submitLabel}
          </Button>
          {!inline && result?.ok && result.message && (
            <p role="status" className="text-sm text-emerald-700">
              {result.message}
            </p>
          )}
        </div>
        {result && !result.ok && (
          <p role="alert" className="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800">
            {result.error}
          </p>
        )}
        {inline && result?.ok && result.message && (
          <span role="status" className="text-sm text-emerald-700">
            {result.message}
          </span>
        )}
      </form>
      {shownOnce &&
        (inline ? (
          // Closing forgets the value (the status message stays): it really is shown once.
          <ShownOnceDialog shownOnce={shownOnce} onClose={() => setResult((r) => (r?.ok ? { ok: true, message: r.message } : r))} />
        ) : (
          <ShownOnceBox {...shownOnce} />
        ))}
    </FieldErrors.Provider>
  );
}

function ShownOnceBox({ label, value, note, className = "mt-4" }: ShownOnce & { className?: string }) {
  return (
    <div className={`rounded-md border border-amber-300 bg-amber-50 p-4 ${className}`} data-testid="shown-once">
      <p className="text-sm font-medium text-amber-900">{label}</p>
      <code className="mt-1 block select-all break-all rounded bg-white px-2 py-1 font-mono text-base text-slate-900" data-testid="shown-once-value">
        {value}
      </code>
      <p className="mt-2 text-xs text-amber-900">{note ?? "Copy it now: it will not be shown again."}</p>
    </div>
  );
}

/**
 * An inline form (a button in a table row) has no room for the box: the value opens in a modal dialog instead,
 * which also keeps a wide box from squeezing the table around it.
 */
function ShownOnceDialog({ shownOnce, onClose }: { shownOnce: ShownOnce; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-label={shownOnce.label}
      className="m-auto w-full max-w-md rounded-lg bg-white p-6 text-left shadow-xl backdrop:bg-slate-900/40"
    >
      <ShownOnceBox {...shownOnce} className="" />
      <form method="dialog" className="mt-4 flex justify-end">
        <Button type="submit">Done</Button>
      </form>
    </dialog>
  );
}

/** The look of every text-like input, with a red border while the server has a message for it. */
const INPUT_CLASS =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-invalid:border-rose-400";

export function Field({
  name,
  label,
  type = "text",
  defaultValue,
  placeholder,
  hint,
  required,
  autoComplete,
  maxLength,
  monospace = false,
  step,
}: {
  name: string;
  label: string;
  type?: string;
  /** For type="number": "any" lets a number have decimals (a percentage, a ratio). */
  step?: string;
  defaultValue?: string | number;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  autoComplete?: string;
  /** The server's limit, so the browser stops typing there instead of the form failing after it was sent. */
  maxLength?: number;
  /** For commands, paths and addresses. */
  monospace?: boolean;
}) {
  const errors = useContext(FieldErrors)[name];
  // Unique per instance: several forms on one page share field names, and a label must point at its own input.
  const id = `f-${name}${useId()}`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        defaultValue={defaultValue}
        placeholder={placeholder}
        required={required}
        autoComplete={autoComplete}
        maxLength={maxLength}
        step={step}
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors ? `${id}-error` : undefined}
        className={`${INPUT_CLASS} ${monospace ? "font-mono" : ""}`}
      />
      {hint && !errors && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
      <FieldError id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** Several lines of text (commands, one path per line); same labels and errors as Field. */
export function TextAreaField({
  name,
  label,
  defaultValue,
  placeholder,
  hint,
  rows = 3,
  maxLength,
  monospace = false,
}: {
  name: string;
  label: string;
  defaultValue?: string;
  placeholder?: string;
  hint?: string;
  rows?: number;
  /** As Field's. */
  maxLength?: number;
  monospace?: boolean;
}) {
  const errors = useContext(FieldErrors)[name];
  const id = `f-${name}${useId()}`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <textarea
        id={id}
        name={name}
        rows={rows}
        maxLength={maxLength}
        defaultValue={defaultValue}
        placeholder={placeholder}
        spellCheck={false}
        aria-invalid={errors ? true : undefined}
        aria-describedby={errors ? `${id}-error` : undefined}
        className={`${INPUT_CLASS} ${monospace ? "font-mono text-xs" : ""}`}
      />
      {hint && !errors && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
      <FieldError id={`${id}-error`} errors={errors} />
    </div>
  );
}

export function SelectField({
  name,
  label,
  options,
  defaultValue,
  hint,
  onChange,
}: {
  name: string;
  label: string;
  options: { value: string; label: string; disabled?: boolean }[];
  defaultValue?: string;
  hint?: string;
  onChange?: (value: string) => void;
}) {
  const errors = useContext(FieldErrors)[name];
  const id = `f-${name}${useId()}`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <select
        id={id}
        name={name}
        defaultValue={defaultValue}
        onChange={onChange ? (e) => onChange(e.currentTarget.value) : undefined}
        aria-invalid={errors ? true : undefined}
        className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200"
      >
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && !errors && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
      <FieldError id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** The viewer's IANA time zone ("Europe/Amsterdam"), read in the browser after hydration: the server's is not theirs. */
export function useTimeZone(): string | null {
  const [zone, setZone] = useState<string | null>(null);
  useEffect(() => setZone(Intl.DateTimeFormat().resolvedOptions().timeZone), []);
  return zone;
}

/**
 * A date and time entered in the person's own time zone (named under the field, with the instant it means in UTC)
 * whose form value is that instant as ISO 8601, empty when not filled in: what the server stores and enforces is
 * exactly what the person saw. The typed value stays when the server refuses it.
 */
export function LocalDateTimeField({ name, label, hint }: { name: string; label: string; hint?: string }) {
  const errors = useContext(FieldErrors)[name];
  const id = `f-${name}${useId()}`;
  const zone = useTimeZone();
  const [iso, setIso] = useState("");
  const input = useRef<HTMLInputElement>(null);
  // The form resets after a success: the instant must go with the visible value.
  useEffect(() => {
    const form = input.current?.form;
    const clear = () => setIso("");
    form?.addEventListener("reset", clear);
    return () => form?.removeEventListener("reset", clear);
  }, []);
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        ref={input}
        type="datetime-local"
        onChange={(e) => {
          const local = e.currentTarget.value;
          const at = local ? new Date(local) : null;
          setIso(at && !Number.isNaN(at.getTime()) ? at.toISOString() : "");
        }}
        aria-invalid={errors ? true : undefined}
        aria-describedby={`${id}-zone${errors ? ` ${id}-error` : ""}`}
        className={INPUT_CLASS}
      />
      <input type="hidden" name={name} value={iso} />
      <p id={`${id}-zone`} className="mt-1 text-xs text-slate-500" data-testid={`${name}-zone`}>
        {zone ? `Your time zone: ${zone}` : "In your time zone"}
        {iso ? ` · that is ${formatTime(iso, iso.slice(17, 19) !== "00")}` : ""}
        {hint ? `. ${hint}` : ""}
      </p>
      <FieldError id={`${id}-error`} errors={errors} />
    </div>
  );
}

export function CheckboxField({ name, label, defaultChecked, value }: { name: string; label: string; defaultChecked?: boolean; value?: string }) {
  const errors = useContext(FieldErrors)[name];
  return (
    <label className="flex items-center gap-2 text-sm text-slate-700">
      <input type="checkbox" name={name} value={value ?? "on"} defaultChecked={defaultChecked} className="h-4 w-4 rounded border-slate-300" />
      {label}
      {errors && <span className="text-xs text-rose-700">{errors[0]}</span>}
    </label>
  );
}

export function FieldError({ id, errors }: { id?: string; errors?: string[] }) {
  if (!errors || errors.length === 0) return null;
  return (
    <p id={id} className="mt-1 text-xs text-rose-700">
      {errors.join(" ")}
    </p>
  );
}

export type ButtonVariant = "primary" | "secondary" | "danger";

export function Button({
  variant = "primary",
  className = "",
  ...props
}: React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }) {
  const styles: Record<ButtonVariant, string> = {
    primary: "bg-indigo-600 text-white hover:bg-indigo-500 disabled:bg-indigo-300",
    secondary: "border border-slate-300 bg-white text-slate-700 hover:bg-slate-50 disabled:text-slate-400",
    danger: "bg-rose-600 text-white hover:bg-rose-500 disabled:bg-rose-300",
  };
  return (
    <button
      {...props}
      className={`inline-flex items-center justify-center whitespace-nowrap rounded-md px-3 py-1.5 text-sm font-medium shadow-sm transition disabled:cursor-not-allowed ${styles[variant]} ${className}`}
    />
  );
}
