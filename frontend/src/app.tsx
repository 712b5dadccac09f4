import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { setUnauthenticatedHandler } from "./api/client";
import { AuthGate } from "./auth/auth-gate";
import { redirectToLogin } from "./auth/redirect";
import { AppShell } from "./components/app-shell";
import { usePathname } from "./routes/router";

/** Share links (`/r/<token>`) open without a login, outside the app shell. */
const SharedReportPage = lazy(() => import("./reports/shared-report-page"));
const isSharedReport = (pathname: string) => pathname.startsWith("/r/");

export function App({ queryClient }: { readonly queryClient: QueryClient }) {
  const pathname = usePathname();
  setUnauthenticatedHandler(() => {
    queryClient.setQueryData(["auth", "me"], null);
    redirectToLogin();
  });
  if (isSharedReport(pathname)) {
    return (
      <QueryClientProvider client={queryClient}>
        <Suspense fallback={<div className="page page--loading" aria-busy="true" />}>
          <SharedReportPage />
        </Suspense>
      </QueryClientProvider>
    );
  }
  return (
    <QueryClientProvider client={queryClient}>
      <AuthGate>
        <AppShell />
      </AuthGate>
    </QueryClientProvider>
  );
}
