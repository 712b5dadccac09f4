import { type FormEvent, useState } from "react";
import { useChangePassword } from "../api/auth";
import { InputField } from "../components/field";

interface PasswordDialogProps {
  readonly onClose: () => void;
}

/** Change the signed-in user's password: current + new (twice); other sessions are signed out. */
export function PasswordDialog({ onClose }: PasswordDialogProps) {
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const mismatch = again !== "" && again !== next;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mismatch || next.length < 8) return;
    change.mutate({ current, next });
  };

  return (
    <div className="dialog-backdrop">
      <form
        className="dialog password-dialog"
        aria-label="Change password"
        onSubmit={submit}
        role="dialog"
      >
        <h2 className="dialog__title">Change password</h2>
        <InputField
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onValue={setCurrent}
        />
        <InputField
          label="New password"
          hint="At least 8 characters."
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          value={next}
          onValue={setNext}
        />
        <InputField
          label="Repeat new password"
          type="password"
          autoComplete="new-password"
          required
          value={again}
          onValue={setAgain}
        />
        {mismatch ? <p role="alert">The new passwords differ.</p> : null}
        {change.error ? <p role="alert">{change.error.message}</p> : null}
        {change.isSuccess ? (
          <p role="status">
            Password changed; {change.data} other session{change.data === 1 ? "" : "s"} signed out.
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="button" className="button button--ghost" onClick={onClose}>
            {change.isSuccess ? "Close" : "Cancel"}
          </button>
          {change.isSuccess ? null : (
            <button
              type="submit"
              className="button"
              disabled={change.isPending || mismatch || next.length < 8}
            >
              Change password
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
