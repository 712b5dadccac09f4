import { Suspense } from "react";
import { NotFoundPage } from "../routes/not-found-page";
import { RouterOutlet } from "../routes/router";
import { routes } from "../routes/routes";
import { TopBar } from "./top-bar";

export function AppShell() {
  return (
    <div className="app-shell">
      <TopBar />
      <main className="app-shell__main">
        <Suspense fallback={<div className="page page--loading" aria-busy="true" />}>
          <RouterOutlet routes={routes} fallback={NotFoundPage} />
        </Suspense>
      </main>
    </div>
  );
}
