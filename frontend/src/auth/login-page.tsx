import { type FormEvent, useState } from "react";
import { useLogin } from "../api/auth";
import { BrandMark } from "../components/brand-mark";
import { InputField } from "../components/field";
import { navigate } from "../routes/router";
import { nextPath } from "./redirect";

/** Username and password; on success the session cookie is set and the app continues at `?next=`. */
export function LoginPage() {
  const [username, setUsername] = useState("admin");
  const [password, setPassword] = useState("");
  const loginMutation = useLogin();

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    loginMutation.mutate(
      { username, password },
      { onSuccess: () => navigate(nextPath(window.location.search), { replace: true }) },
    );
  };

  return (
    <div className="login">
      <form className="card login__card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login__brand">
          <BrandMark />
          <h1 id="login-title" className="login__title">
            Sign in to Rivulet
          </h1>
        </div>
        <InputField
          label="Username"
          name="username"
          autoComplete="username"
          value={username}
          onValue={setUsername}
          required
        />
        <InputField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          required
        />
        {loginMutation.error ? (
          <p className="login__error" role="alert">
            {loginMutation.error.message}
          </p>
        ) : null}
        <button className="button button--primary" type="submit" disabled={loginMutation.isPending}>
          {loginMutation.isPending ? "Signing in…" : "Sign in"}
        </button>
        <p className="login__hint">
          First start? The administrator's one-time password is printed in the server log (or set
          RIVULET_ADMIN_PASSWORD).
        </p>
      </form>
    </div>
  );
}
